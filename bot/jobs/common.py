"""Helpers shared by job executors."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.machine import JobKind, slack_key
from bot.jobs.errors import GiveUp
from bot.runtime import Runtime
from storage import jobs, requests
from storage.models import ApprovalRequest, Job


async def load_request(rt: Runtime, job: Job) -> ApprovalRequest:
    """The job's request, fresh from the database."""
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        raise GiveUp(f"request {job.payload['request_id']} does not exist")
    return req


def redraw(session: AsyncSession, req: ApprovalRequest, now: datetime) -> None:
    """Queue a redraw of the request's Slack message."""
    jobs.enqueue(session, kind=JobKind.UPDATE_REQUEST, key=slack_key(req.shop_domain, req.order_gid), now=now,
                 payload={"request_id": req.id})


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
