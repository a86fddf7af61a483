"""A flooded channel's summary message (pure): how many wait, how many are still to come, where to decide.

Slack posts about one message a second in a channel, so a burst of 300 requests takes five minutes to
appear. The summary goes first and is redrawn in place while the backlog drains: approvers learn the size
of the wave at once and can decide from the queue instead of waiting for the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (ActionsBlock, ButtonElement, ContextBlock, HeaderBlock, MarkdownTextObject,
                                     SectionBlock)

from bot.blocks.ids import ActionId
from bot.blocks.mrkdwn import escape
from bot.blocks.queue import PageRef
from bot.reports.figures import duration_text

MAX_POLICIES = 8  # lines of the "by policy" list before "…and N more"
QUEUE = PageRef(q="queue")  # the "Open the queue" button asks for the first page of `/approvals queue`


@dataclass(frozen=True)
class FloodView:
    """A channel's backlog and queue as the summary shows them."""

    waiting: int  # pending requests in the channel
    unposted: int  # of the channel's requests, those whose message is still to come
    by_policy: tuple[tuple[str, int], ...]  # (policy title, pending), most first
    oldest: tuple[str, datetime] | None  # (order name, created_at) of the longest-waiting request
    started_at: datetime
    decided: int  # decided since the flood began
    posts_per_s: float = 0.0  # the channel's posting pace (0: unknown)


def _orders(n: int) -> str:
    return f"{n:,} order{'' if n == 1 else 's'}"


def _clock(at: datetime) -> str:
    return f"{at:%H:%M} UTC"


def eta(unposted: int, posts_per_s: float) -> str:
    """', the last in about 5m' when the pace is known."""
    if unposted <= 0 or posts_per_s <= 0:
        return ""
    return f", the last in about {duration_text(timedelta(seconds=unposted / posts_per_s))}"


def text_fallback(v: FloodView) -> str:
    """Notification text."""
    if v.unposted:
        return (f"{_orders(v.waiting)} waiting for approval here; {v.unposted:,} not posted yet. "
                "Decide from /approvals queue or holdfast's Home tab.")
    return f"Backlog posted: {_orders(v.waiting)} waiting for approval here."


def _policies(v: FloodView) -> str:
    lines = [f"• {escape(title)}: {n:,}" for title, n in v.by_policy[:MAX_POLICIES]]
    if len(v.by_policy) > MAX_POLICIES:
        lines.append(f"…and {len(v.by_policy) - MAX_POLICIES} more policies")
    return "*By policy*\n" + "\n".join(lines)


def build(v: FloodView, now: datetime) -> list[dict[str, Any]]:
    """The summary: a headline count, the backlog still to come (or that it is all posted), policies, oldest, queue."""
    if v.unposted:
        head = f"{_orders(v.waiting)} waiting for approval"
        body = (f":hourglass_flowing_sand: *{v.unposted:,} of them are not posted here yet.* Slack takes about one "
                f"message a second in a channel, so they follow oldest first{eta(v.unposted, v.posts_per_s)}. "
                "You need not wait for them: every request can be decided now from the queue.")
    else:
        head = f"Backlog posted at {_clock(now)}"
        body = (f":white_check_mark: *Every request of this burst is posted in this channel.* "
                + (f"{_orders(v.waiting)} were waiting for approval then; decide them here or from the queue."
                   if v.waiting else "None was waiting for approval then."))
    blocks: list[Any] = [HeaderBlock(text=head[:150]), SectionBlock(text=MarkdownTextObject(text=body))]
    if v.by_policy:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_policies(v)[:3000])))
    facts = []
    if v.oldest:
        facts.append(f"Oldest waiting: *{escape(v.oldest[0])}*, {duration_text(now - v.oldest[1])}")
    facts.append(f"{v.decided:,} decided since {_clock(v.started_at)}")
    facts.append(f"updated {now:%H:%M:%S} UTC")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(facts))]))
    if v.waiting:
        blocks.append(ActionsBlock(elements=[
            ButtonElement(text="Open the queue", action_id=ActionId.MORE, value=QUEUE.dump(), style="primary")]))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="The queue shows the requests you can decide, oldest first, with their buttons. "
                 "Also: `/approvals queue`, or holdfast's *Home* tab.")]))
    return [b.to_dict() for b in blocks]
