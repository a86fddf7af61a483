"""Replies to `/approvals` other than the queue (pure): help, refusals, an order's history, figures."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.mrkdwn import escape
from bot.blocks.queue import MESSAGE_BLOCKS, PageRef, more_button
from bot.reports.figures import Figures, duration_text
from bot.reports.query import Query, Sub

HELP = {
    Sub.QUEUE: ("`/approvals` or `/approvals queue [policy:<id>] [shop:<shop>] [mine]`",
                "pending requests you may decide, oldest first, with Approve/Reject. `mine`: only those waiting for "
                "your vote. e.g. `/approvals queue policy:staff-orders mine`"),
    Sub.HISTORY: ("`/approvals history <order>`",
                  "every step of an order's approval: who, when, fields, what Shopify did. The order as `#1001`, "
                  "its id, or its admin URL. e.g. `/approvals history #1001`"),
    Sub.AUDIT: ("`/approvals audit [@user] [policy:<id>] [approved|rejected|expired] [since <date|7d>] [until <date>]`",
                "a summary, and a CSV of the matching decisions in your DM (last 30 days unless told). "
                "e.g. `/approvals audit @ana rejected since 2025-03-01`"),
    Sub.STATS: ("`/approvals stats [since <date|7d>] [until <date>]`",
                "counts by outcome, approver and policy; median and 90th-percentile time to decision; SLA breaches "
                "(last 7 days unless told). e.g. `/approvals stats since 30d`"),
    Sub.HELP: ("`/approvals help`", "this list"),
}
_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")
MAX_LIST = 10  # rows of a leaderboard or breach list before "…and N more"


def _blocks(blocks: list[Any]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def help_blocks(query: Query, *, manager: bool) -> list[dict[str, Any]]:
    """What `/approvals` can do, with examples; a misunderstanding is said first, politely."""
    blocks: list[Any] = []
    if query.problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":thinking_face: {escape(query.problem)}. "
                                                                "Here is what I can do:")))
    blocks.append(HeaderBlock(text="/approvals"))
    for sub, (usage, what) in HELP.items():
        if sub in (Sub.HISTORY, Sub.AUDIT, Sub.STATS) and not manager and query.topic is not sub:
            continue  # managers' commands are only listed to managers (or to whoever asked about one)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"{usage}\n{what}")))
    if not manager:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="`history`, `audit` and `stats` are for managers (the policy file's `roles.managers`).")]))
    return _blocks(blocks)


def refusal_blocks(sub: Sub, why: str) -> list[dict[str, Any]]:
    """A polite no."""
    return _blocks([SectionBlock(text=MarkdownTextObject(
        text=f":lock: Sorry, `/approvals {sub.value}` is not available to you: {why}. "
             "Ask an operator if you think you should have access."))])


@dataclass(frozen=True)
class HistoryRequest:
    """A request's headline in an order's history."""

    id: int
    shop: str
    order_name: str
    policy_title: str
    status: str
    created_at: datetime
    decided_by: str | None = None


@dataclass(frozen=True)
class HistoryEvent:
    """One audit event."""

    id: int
    request_id: int | None
    at: datetime
    actor: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def _who(actor: str) -> str:
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() and actor.isupper() else escape(actor)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v)}" for k, v in value.items()) or "–"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "–"
    return _MENTION.sub(r"<@\1>", escape(str(value)))  # mentions inside values stay mentions


def event_line(event: HistoryEvent) -> str:
    """`2025-03-01 10:02 UTC` *request.approved* by @ana — vote: approve; fields: reason=ok"""
    details = "; ".join(f"{k}: {_value(v)}" for k, v in event.data.items() if v not in (None, "", [], {}))
    line = f"`{event.at:%Y-%m-%d %H:%M:%S} UTC` *{escape(event.kind)}* by {_who(event.actor)}"
    return (f"{line} — {details}" if details else line)[:2000]


def history_blocks(requests: list[HistoryRequest], events: list[HistoryEvent], *, q: str, label: str,
                   has_more: bool, first: bool = True) -> list[dict[str, Any]]:
    """An order's audit trail, request by request, cut to fit one message; "more" continues it."""
    blocks: list[Any] = [HeaderBlock(text=f"History of {label}"[:150] + ("" if first else " (continued)"))]
    if not requests:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=f"No approval request was ever made for {escape(label)}.")))
        return _blocks(blocks)
    heads = {r.id: r for r in requests}
    current, last_shown, cut = None, 0, False
    for event in events:
        need = 1 + (event.request_id != current) * 2
        if len(blocks) + need + 1 > MESSAGE_BLOCKS:  # keep room for the "more" button
            cut = True
            break
        if event.request_id != current:
            current = event.request_id
            head = heads.get(current)
            if head:
                blocks += [DividerBlock(), SectionBlock(text=MarkdownTextObject(
                    text=f"*Request {head.id}* · {escape(head.shop)} · {escape(head.policy_title)} · "
                         f"*{head.status}*" + (f" by {_who(head.decided_by)}" if head.decided_by else "")))]
            else:
                blocks += [DividerBlock(), SectionBlock(text=MarkdownTextObject(text="*Other events*"))]
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=event_line(event))]))
        last_shown = event.id
    if not events:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No more events.")))
    if cut or has_more:
        blocks.append(more_button(PageRef(q=q, id=last_shown), "More events"))
    return _blocks(blocks)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "none"


def _board(title: str, rows: dict[str, dict[str, int]], name) -> str:
    lines = [f"• {name(k)}: {_counts(v)}" for k, v in list(rows.items())[:MAX_LIST]]
    if len(rows) > MAX_LIST:
        lines.append(f"…and {len(rows) - MAX_LIST} more")
    return f"*{title}*\n" + ("\n".join(lines) or "none")


def figures_blocks(fig: Figures, *, since: datetime, until: datetime, title: str, filters: str = "",
                   titles: dict[str, str] | None = None) -> list[Any]:
    """The summary shared by `stats`, `audit` and a manager's App Home (slack_sdk block objects)."""
    titles = titles or {}
    window = f"{since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} UTC"
    blocks: list[Any] = [
        HeaderBlock(text=title[:150]),
        ContextBlock(elements=[MarkdownTextObject(text=f"Decided {window}. {filters}".strip())]),
        SectionBlock(fields=[
            MarkdownTextObject(text=f"*Decisions*\n{fig.total}"),
            MarkdownTextObject(text=f"*By outcome*\n{_counts(fig.by_outcome)}"),
            MarkdownTextObject(text=f"*Median time to decision*\n{duration_text(fig.median)}"),
            MarkdownTextObject(text=f"*90th percentile*\n{duration_text(fig.p90)}"),
        ]),
        SectionBlock(text=MarkdownTextObject(text=_board("By approver (votes)", fig.by_approver, _who)[:3000])),
        SectionBlock(text=MarkdownTextObject(
            text=_board("By policy", fig.by_policy, lambda p: escape(titles.get(p, p)))[:3000])),
    ]
    breaches = [f"• {escape(o.order_name)} ({escape(titles.get(o.policy_id, o.policy_id))}): decided after "
                f"{duration_text(o.time_to_decision)}, SLA {duration_text(o.sla)}" for o in fig.breaches[:MAX_LIST]]
    if fig.breaches_total > MAX_LIST:
        breaches.append(f"…and {fig.breaches_total - MAX_LIST} more")
    text = f"*SLA breaches: {fig.breaches_total}*" + ("\n" + "\n".join(breaches) if breaches else "")
    if fig.overdue:
        text += f"\n*Pending past their SLA now: {len(fig.overdue)}* (oldest: {escape(fig.overdue[0].order_name)})"
    blocks.append(SectionBlock(text=MarkdownTextObject(text=text[:3000])))
    return blocks


def report_blocks(query: Query, fig: Figures, *, filters: str, titles: dict[str, str],
                  csv_note: str | None = None) -> list[dict[str, Any]]:
    """The reply to `stats` or `audit`."""
    title = "Approval audit" if query.sub is Sub.AUDIT else "Approval figures"
    assert query.since and query.until
    blocks = figures_blocks(fig, since=query.since, until=query.until, title=title, filters=filters, titles=titles)
    if csv_note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=csv_note)]))
    return _blocks(blocks)


def describe(query: Query) -> str:
    """The filters in words, for the reply's context line."""
    parts = []
    if query.policy:
        parts.append(f"policy `{escape(query.policy)}`")
    if query.shop:
        parts.append(f"shop `{escape(query.shop)}`")
    if query.mine:
        parts.append("waiting for your vote")
    if query.user:
        parts.append(f"involving <@{query.user}>")
    if query.outcomes:
        parts.append(" or ".join(query.outcomes))
    return ("Filters: " + ", ".join(parts) + ".") if parts else ""
