"""What the request feature's services and executors share: its jobs, its message view, loading a job's request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import machine, timers
from bot.approvals.effects import Effect, JobKind, slack_key, timer_key
from bot.blocks import consequences
from bot.blocks.request_message import RequestView
from bot.features.shipstation import line
from bot.jobs.errors import GiveUp
from bot.runtime import Runtime
from storage import jobs, requests, shipstation, shops, tracking
from storage.models import ApprovalRequest, Decision, Job, RequestCopy
from storage.requests import Loaded

# Kinds that draw the request message (its votes show); a redraw also redraws the escalation copies.
DRAWS = frozenset({JobKind.POST_REQUEST, JobKind.UPDATE_REQUEST, JobKind.DM})


async def prefetch(rt: Runtime, session: AsyncSession, batch: list[Job]) -> None:
    """Load the requests of a claimed batch right after the claim: a query or three for all, not sessions each.

    The claim runs after the change that queued each job committed, so what this reads is as fresh as a read
    at the job's start (the job starts at once); every later change queues a redraw of its own.
    """
    wanted = {job.id: rid for job in batch
              if job.id is not None and isinstance(rid := job.payload.get("request_id"), int)}
    if not wanted:
        return
    def of(kinds: frozenset[str]) -> list[int]:
        return sorted({wanted[job.id] for job in batch if job.kind in kinds and job.id in wanted})

    found = await requests.many(session, ids=sorted(set(wanted.values())))
    drawn, redraws = of(DRAWS), of(frozenset({JobKind.UPDATE_REQUEST}))
    votes = await requests.per_request(session, Decision, request_ids=drawn) if drawn else {}
    copies = await requests.per_request(session, RequestCopy, request_ids=redraws) if redraws else {}
    for job_id, rid in wanted.items():
        if rid in found:
            rt.loaded[job_id] = Loaded(found[rid], votes.get(rid), copies.get(rid))


async def load_request(rt: Runtime, job: Job) -> ApprovalRequest:
    """The job's request: as its claim loaded it, else fresh from the database."""
    loaded = rt.loaded.get(job.id) if job.id is not None else None
    if loaded is not None:
        return loaded.request
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        raise GiveUp(f"request {job.payload['request_id']} does not exist")
    return req


async def _claimed_or_read(rt: Runtime, job: Job, req: ApprovalRequest, what: str,
                           read: Callable[..., Awaitable[list[Any]]]) -> list[Any]:
    loaded = rt.loaded.get(job.id) if job.id is not None else None
    rows = getattr(loaded, what) if loaded is not None and loaded.request.id == req.id else None
    if rows is not None:
        return rows
    async with rt.sessions() as session:
        return await read(session, request_id=req.id)


async def load_decisions(rt: Runtime, job: Job, req: ApprovalRequest) -> list[Decision]:
    """The votes on the job's request: as its claim loaded them, else from the database."""
    return await _claimed_or_read(rt, job, req, "decisions", requests.decisions)


async def load_copies(rt: Runtime, job: Job, req: ApprovalRequest) -> list[RequestCopy]:
    """The request's escalation copies: as a redraw's claim loaded them, else from the database."""
    return await _claimed_or_read(rt, job, req, "copies", tracking.copies)


def redraw(rt: Runtime, session: AsyncSession, req: ApprovalRequest) -> None:
    """Queue a redraw of the request's Slack message."""
    rt.enqueue(session, JobKind.UPDATE_REQUEST, key=slack_key(req.shop_domain, req.order_gid),
               payload={"request_id": req.id})


async def redraw_once(rt: Runtime, session: AsyncSession, req: ApprovalRequest) -> None:
    """Queue a redraw unless one waits to start already (it will draw what this transaction commits).

    A decision's redraw may still wait when its release lands (its channel's turn, a Slack 429, a backlog):
    one redraw then shows both, a job and a `chat.update` fewer, and the final state one step sooner.
    """
    if not await jobs.queued(session, key=slack_key(req.shop_domain, req.order_gid), kind=JobKind.UPDATE_REQUEST):
        redraw(rt, session, req)


def say_in_thread(rt: Runtime, session: AsyncSession, req: ApprovalRequest, text: str) -> None:
    """Queue a reply in the request message's thread."""
    rt.enqueue(session, JobKind.THREAD_NOTICE, key=slack_key(req.shop_domain, req.order_gid),
               payload={"request_id": req.id, "text": text})


async def refused(rt: Runtime, session: AsyncSession, job: Job, error: str, say: str) -> ApprovalRequest | None:
    """Record that Shopify did not apply a decision: outcome failed, message redrawn, `say` in its thread."""
    req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        return None
    now = rt.now()
    await requests.set_outcome(session, request_id=req.id, state="failed", error=error, now=now)
    redraw(rt, session, req)
    say_in_thread(rt, session, req, say.format(order=req.order_name, error=error))
    return req


def forget(rt: Runtime, job_id: int) -> None:
    """The worker is done with a job: drop what its claim loaded."""
    rt.loaded.pop(job_id, None)


def enqueue_effects(rt: Runtime, session: AsyncSession, effects: tuple[Effect, ...], *, request_id: int) -> None:
    """Write the core's effects as jobs in the caller's transaction."""
    for effect in effects:
        rt.enqueue(session, effect.kind, key=effect.key, payload={**effect.payload, "request_id": request_id})


def enqueue_timer(rt: Runtime, session: AsyncSession, *, request_id: int, timer: timers.Timer) -> None:
    """A request's timer as a job due at its time (bot/features/timers re-checks the request when it fires)."""
    rt.enqueue(session, JobKind.TIMER, key=timer_key(request_id, timer.kind.value), run_at=timer.at,
               payload={"request_id": request_id, "timer": timer.kind.value, "n": timer.n})


async def several_shops(session: AsyncSession) -> bool:
    """Whether holdfast serves more than one shop now (then each message says which shop its order is from)."""
    return len(await shops.served_shops(session)) > 1


async def shows_shop(rt: Runtime) -> bool:
    """`several_shops` in a session of its own (a job that draws the message holds none)."""
    async with rt.sessions() as session:
        return await several_shops(session)


async def shipstation_line(rt: Runtime, req: ApprovalRequest, session: AsyncSession | None = None) -> str | None:
    """The message's "ShipStation: …" line from the request's record (None: the connector did nothing for it).

    Read only for a policy with a `shipstation:` block: the other requests' redraws cost no query more."""
    policy = rt.policies.get(req.policy_id)
    if req.id is None or policy is None or policy.shipstation is None:
        return None
    if session is not None:
        row = await shipstation.get(session, request_id=req.id)
    else:
        async with rt.sessions() as own:
            row = await shipstation.get(own, request_id=req.id)
    return line.of_record(row, order_name=req.order_name, find_for_s=rt.settings.shipstation_find_for_s)


def view_of(rt: Runtime, req: ApprovalRequest, decisions: list[Decision] | tuple[Decision, ...] = (), *,
            show_shop: bool = False, shipstation: str | None = None) -> RequestView:
    """The message's view of a stored request and its votes; `show_shop` comes from `several_shops`."""
    policy = rt.policies.get(req.policy_id)
    votes = tuple((d.user_id, machine.Vote(d.vote)) for d in decisions)
    deciding = next((d for d in reversed(decisions) if d.user_id == req.decided_by), None)
    return RequestView(
        id=req.id, version=req.version, shop=req.shop_domain, status=req.status,
        policy_title=policy.title if policy else req.policy_id, reasons=tuple(req.reasons), order=req.order_snapshot,
        hold_state=req.hold_state, hold_error=req.hold_error, decided_by=req.decided_by, decided_at=req.decided_at,
        progress=machine.progress(policy, votes) if policy and (policy.approvers.required > 1 or len(votes) > 1)
        else None,
        fields=machine.fields_text(policy, deciding.fields) if policy and deciding and deciding.fields else None,
        outcome_state=req.outcome_state, outcome_error=req.outcome_error,
        approve_form=bool(policy and policy.fields.approve), reject_form=bool(policy and policy.fields.reject),
        delegation=bool(policy and policy.approvers.delegation), assignee=req.assignee,
        internal={"requester": req.requester, "draft_state": req.draft_state, "placed_order_gid": req.placed_order_gid,
                  "placed_order_name": req.placed_order_name} if req.kind == "internal" else None,
        consequences=consequences.of(policy, req.order_snapshot) if policy else None,
        applied=consequences.applied(policy, req.status), keeps_hold=consequences.keeps_hold(policy, req.status),
        show_shop=show_shop, shipstation=shipstation,
    )
