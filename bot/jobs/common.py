"""Helpers shared by job executors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.machine import JobKind, slack_key
from bot.jobs.errors import GiveUp
from bot.runtime import Runtime
from storage import jobs, requests, tracking
from storage.models import ApprovalRequest, Decision, Job, RequestCopy


@dataclass(frozen=True)
class Loaded:
    """A claimed job's request as its claim found it, with its votes and copies where the job draws them."""

    request: ApprovalRequest
    decisions: list[Decision] | None = None  # loaded for the kinds that draw the message (DRAWS)
    copies: list[RequestCopy] | None = None


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


async def load_decisions(rt: Runtime, job: Job, req: ApprovalRequest) -> list[Decision]:
    """The votes on the job's request: as its claim loaded them, else from the database."""
    loaded = rt.loaded.get(job.id) if job.id is not None else None
    if loaded is not None and loaded.decisions is not None and loaded.request.id == req.id:
        return loaded.decisions
    async with rt.sessions() as session:
        return await requests.decisions(session, request_id=req.id)


async def load_copies(rt: Runtime, job: Job, req: ApprovalRequest) -> list[RequestCopy]:
    """The request's escalation copies: as a redraw's claim loaded them, else from the database."""
    loaded = rt.loaded.get(job.id) if job.id is not None else None
    if loaded is not None and loaded.copies is not None and loaded.request.id == req.id:
        return loaded.copies
    async with rt.sessions() as session:
        return await tracking.copies(session, request_id=req.id)


def redraw(session: AsyncSession, req: ApprovalRequest, now: datetime) -> None:
    """Queue a redraw of the request's Slack message."""
    jobs.enqueue(session, kind=JobKind.UPDATE_REQUEST, key=slack_key(req.shop_domain, req.order_gid), now=now,
                 payload={"request_id": req.id})


async def redraw_once(session: AsyncSession, req: ApprovalRequest, now: datetime) -> None:
    """Queue a redraw unless one waits to start already (it will draw what this transaction commits).

    A decision's redraw may still wait when its release lands (its channel's turn, a Slack 429, a backlog):
    one redraw then shows both, a job and a `chat.update` fewer, and the final state one step sooner.
    """
    if not await jobs.queued(session, key=slack_key(req.shop_domain, req.order_gid), kind=JobKind.UPDATE_REQUEST):
        redraw(session, req, now)


def say_in_thread(session: AsyncSession, req: ApprovalRequest, now: datetime, text: str) -> None:
    """Queue a reply in the request message's thread."""
    jobs.enqueue(session, kind=JobKind.THREAD_NOTICE, key=slack_key(req.shop_domain, req.order_gid), now=now,
                 payload={"request_id": req.id, "text": text})


async def refused(rt: Runtime, session: AsyncSession, job: Job, error: str, say: str) -> ApprovalRequest | None:
    """Record that Shopify did not apply a decision: outcome failed, message redrawn, `say` in its thread."""
    req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        return None
    now = rt.now()
    await requests.set_outcome(session, request_id=req.id, state="failed", error=error, now=now)
    redraw(session, req, now)
    say_in_thread(session, req, now, say.format(order=req.order_name, error=error))
    return req
