"""`/approvals` application service: who may ask what, load from storage, call the pure core, audit refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import JobKind, report_key
from bot.approvals.machine import Vote, progress
from bot.approvals.policies import PolicySet
from bot.blocks import consequences
from bot.blocks import reports as report_blocks
from bot.blocks.queue import PAGE_SIZE, PageRef, QueueItem, queue_blocks
from bot.reports.figures import Figures, Outcome, VoteRow, Waiting, breached_ids, figures_from_rows, sla_for
from bot.reports.query import MANAGER_ONLY, Query, Sub, parse
from bot.runtime import Runtime
from storage import audit
from storage import reports as store
from storage.db import transaction
from storage.models import ApprovalRequest, Decision

HISTORY_PAGE = 45  # audit events fetched per history page (the builder cuts to the block limit)


@dataclass(frozen=True)
class Access:
    """What a user may see: everything (manager) and/or the requests of the policies they approve."""

    manager: bool
    approver_of: tuple[str, ...]


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer: fallback text and blocks."""

    text: str
    blocks: list[dict[str, Any]]


async def access(rt: Runtime, user: str) -> Access:
    """Resolve the user's roles now (user groups through the directory cache), never from the payload."""
    manager = await rt.directory.includes(rt.policies.roles.managers, user)
    approver_of = tuple([p.id for p in rt.policies.policies if await rt.directory.includes(p.approvers, user)])
    return Access(manager, approver_of)


def refusal(query: Query, acc: Access) -> str | None:
    """Why this user may not run this subcommand, or None (pure)."""
    if query.sub in MANAGER_ONLY and not acc.manager:
        return "it is for managers (the policy file's `roles.managers`)"
    if query.sub is Sub.QUEUE and not acc.manager and not acc.approver_of:
        return "you are not an approver of any policy"
    return None


def default_sla(rt: Runtime) -> timedelta | None:
    """The configured SLA for policies without timers (None when set to 0)."""
    return sla_setting(rt.settings.sla_default_s)


def sla_setting(seconds: float) -> timedelta | None:
    """`sla_default_s` as a timedelta; 0 means no SLA."""
    return timedelta(seconds=seconds) if seconds > 0 else None


def queue_item(rt: Runtime, req: ApprovalRequest, votes: list[Decision], *, buttons: bool) -> QueueItem:
    """A stored pending request as a list line."""
    policy = rt.policies.get(req.policy_id)
    snap = req.order_snapshot or {}
    cast = tuple((d.user_id, Vote(d.vote)) for d in votes)
    return QueueItem(
        id=req.id, version=req.version, shop=req.shop_domain, order_name=req.order_name,
        legacy_id=snap.get("legacy_id"), total=str(snap.get("total_price", "?")), currency=snap.get("currency", ""),
        policy_title=policy.title if policy else req.policy_id, created_at=req.created_at,
        votes=progress(policy, cast) if policy and cast else None,
        approve_form=bool(policy and policy.fields.approve), reject_form=bool(policy and policy.fields.reject),
        buttons=buttons, reject_said=consequences.of(policy, snap).reject if policy else None,
    )


async def load_outcomes(session: AsyncSession, query: Query, *, policies: PolicySet | None,
                        default: timedelta | None, with_fields: bool = True) -> list[Outcome]:
    """The decided requests matching a report query, with their votes and SLAs (also used by the CLI)."""
    assert query.since and query.until
    rows = await store.decided(session, since=query.since, until=query.until, policy_id=query.policy,
                               shop=query.shop, statuses=query.outcomes, user=query.user)
    votes = await store.votes(session, request_ids=[r.id for r in rows], with_fields=with_fields)
    slas: dict[str, timedelta | None] = {}  # one lookup per policy, not per row: reports read tens of thousands
    for r in rows:
        if r.policy_id not in slas:
            slas[r.policy_id] = sla_for(policies.get(r.policy_id) if policies else None, default)
    none: tuple = ()
    return [Outcome(request_id=r.id, shop=r.shop_domain, order_name=r.order_name, order_gid=r.order_gid,
                    policy_id=r.policy_id, status=r.status, created_at=r.created_at, decided_at=r.decided_at,
                    decided_by=r.decided_by, sla=slas[r.policy_id],
                    votes=tuple(VoteRow(d[1], d[2], d[3], d[4] if with_fields else {}) for d in votes.get(r.id, none)))
            for r in rows]


async def outcomes(session: AsyncSession, rt: Runtime, query: Query) -> list[Outcome]:
    """The decided requests matching a report query, with their votes' fields (for the CSV)."""
    return await load_outcomes(session, query, policies=rt.policies, default=default_sla(rt))


async def waiting(session: AsyncSession, rt: Runtime, *, policy_id: str | None = None) -> list[Waiting]:
    """Pending requests with their SLAs (for "pending past their SLA now")."""
    rows = await store.pending_brief(session, policy_ids=[policy_id] if policy_id else None)
    default = default_sla(rt)
    return [Waiting(r.id, r.order_name, r.policy_id, r.created_at, sla_for(rt.policies.get(r.policy_id), default))
            for r in rows]


def titles(rt: Runtime) -> dict[str, str]:
    """Policy id → the name people know it by."""
    return {p.id: p.title for p in rt.policies.policies}


async def _queue(rt: Runtime, user: str, query: Query, acc: Access, text: str, after: PageRef | None) -> Reply:
    visible: list[str] | None = None if acc.manager and not query.mine else list(acc.approver_of)
    if query.policy:
        visible = [query.policy] if visible is None or query.policy in visible else []
    async with rt.sessions() as session:
        rows = await store.pending_page(session, policy_ids=visible, shop=query.shop,
                                        waiting_for=user if query.mine else None,
                                        after=(after.at, after.id) if after and after.at else None,
                                        limit=PAGE_SIZE + 1)
        votes = await store.votes(session, request_ids=[r.id for r in rows])
    page = rows[:PAGE_SIZE]
    items = [queue_item(rt, r, votes.get(r.id, []), buttons=r.policy_id in acc.approver_of) for r in page]
    more = PageRef(q=text[:1500], at=page[-1].created_at, id=page[-1].id) if len(rows) > PAGE_SIZE else None
    # A page reference without a position (the flood summary's "Open the queue") asks for the first page.
    blocks = queue_blocks(items, rt.now(), filters=report_blocks.describe(query), more=more,
                          first=after is None or after.at is None)
    return Reply(f"{len(items)} request(s) waiting" if items else "Nothing is waiting.", blocks)


async def _history(rt: Runtime, query: Query, text: str, after: PageRef | None) -> Reply:
    assert query.order
    label = query.order.name or query.order.legacy_id or "that order"
    async with rt.sessions() as session:
        reqs = await store.for_order(session, name=query.order.name, legacy_id=query.order.legacy_id)
        events = await store.events_for(session, request_ids=[r.id for r in reqs],
                                        after_id=after.id if after else 0, limit=HISTORY_PAGE + 1)
    names = titles(rt)
    heads = [report_blocks.HistoryRequest(r.id, r.shop_domain, r.order_name, names.get(r.policy_id, r.policy_id),
                                          r.status, r.created_at, r.decided_by) for r in reqs]
    lines = [report_blocks.HistoryEvent(e.id, e.request_id, e.at, e.actor, e.kind, audit.content(e))  # + personal
             for e in events[:HISTORY_PAGE]]
    blocks = report_blocks.history_blocks(heads, lines, q=text[:1500], label=reqs[0].order_name if reqs else label,
                                          has_more=len(events) > HISTORY_PAGE, first=after is None)
    return Reply(f"History of {label}", blocks)


async def summary(session: AsyncSession, rt: Runtime, query: Query) -> Figures:
    """Figures for a report query, reduced by the database (100,000 requests answer in well under a second)."""
    assert query.since and query.until
    where = dict(since=query.since, until=query.until, policy_id=query.policy, shop=query.shop,
                 statuses=query.outcomes, user=query.user)
    rows = await store.decided_durations(session, **where)
    default = default_sla(rt)
    slas = {pid: sla_for(rt.policies.get(pid), default) for pid in {r[1] for r in rows}}
    late = breached_ids(rows, slas)
    examples = await store.decided_by_ids(session, ids=late[:report_blocks.MAX_LIST])
    shown = tuple(Outcome(request_id=r.id, shop=r.shop_domain, order_name=r.order_name, order_gid=r.order_gid,
                          policy_id=r.policy_id, status=r.status, created_at=r.created_at, decided_at=r.decided_at,
                          decided_by=r.decided_by, sla=slas.get(r.policy_id)) for r in examples)
    pending = await waiting(session, rt, policy_id=query.policy)
    return figures_from_rows(rows, await store.vote_counts(session, **where), shown, len(late), pending,
                             now=rt.now())


async def _report(rt: Runtime, user: str, query: Query) -> Reply:
    # Read without a write transaction: on SQLite that would hold the write lock for the whole report.
    async with rt.sessions() as session:
        fig = await summary(session, rt, query)
    note = None
    if query.sub is Sub.AUDIT:
        async with transaction(rt.sessions) as session:
            # The file goes to the DM as a job: the upload may be slow or retried; the reply is not held up.
            rt.enqueue(session, JobKind.REPORT_CSV, key=report_key(user),
                       payload={"user": user, "query": query.payload()})
        note = f":page_facing_up: A CSV of these {fig.total} decision(s) is on its way to your DM."
    rt.wake_worker()
    blocks = report_blocks.report_blocks(query, fig, filters=report_blocks.describe(query), titles=titles(rt),
                                         csv_note=note)
    return Reply(f"{fig.total} decision(s)", blocks)


async def _refuse(rt: Runtime, user: str, query: Query, text: str, why: str) -> Reply:
    async with transaction(rt.sessions) as session:
        await audit.append(session, at=rt.now(), actor=user, kind="command.refused",
                           data={"command": "/approvals", "subcommand": query.sub.value, "text": text[:500],
                                 "reason": why})
    return Reply("Sorry, that is not available to you.", report_blocks.refusal_blocks(query.sub, why))


async def run(rt: Runtime, *, user: str, text: str, page: PageRef | None = None) -> Reply:
    """Answer `/approvals <text>` (or the next page of an earlier answer) for this user."""
    text = (text or "").strip()
    query = parse(text, rt.now())
    acc = await access(rt, user)
    if query.sub is Sub.HELP:
        return Reply("What /approvals can do", report_blocks.help_blocks(query, manager=acc.manager))
    why = refusal(query, acc)
    if why:
        return await _refuse(rt, user, query, text, why)
    if query.sub is Sub.QUEUE:
        return await _queue(rt, user, query, acc, text, page)
    if query.sub is Sub.HISTORY:
        return await _history(rt, query, text, page)
    return await _report(rt, user, query)
