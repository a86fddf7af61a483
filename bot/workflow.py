"""Application service: load → pure core → save state, audit and jobs in ONE transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import flood
from bot.approvals import machine, timers
from bot.approvals.machine import Effect, JobKind, Status
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match
from bot.blocks.request_message import RequestView
from bot.ingest import ORDER_TOPICS, Delivery
from bot.runtime import Runtime
from storage import audit, jobs, requests
from storage.db import transaction
from storage.models import ApprovalRequest, Decision



def enqueue_effects(session: AsyncSession, rt: Runtime, effects: tuple[Effect, ...], *, request_id: int) -> None:
    """Write the core's effects as jobs in the caller's transaction."""
    now = rt.now()
    for effect in effects:
        attempts = rt.settings.hold_max_attempts if effect.kind is JobKind.HOLD else rt.settings.job_max_attempts
        jobs.enqueue(session, kind=effect.kind, key=effect.key, now=now, max_attempts=attempts,
                     payload={**effect.payload, "request_id": request_id})


async def accept_webhook(rt: Runtime, *, topic: str, shop: str, webhook_id: str, event_id: str | None,
                         body: dict[str, Any], raw: bytes) -> bool:
    """Store a verified delivery and its processing job (group-committed); False for a duplicate."""
    return await rt.webhooks.accept(Delivery(topic, shop, webhook_id, event_id, body, raw))


async def flag_order(rt: Runtime, session: AsyncSession, *, shop: str, order: OrderFacts, match: Match,
                     source: str) -> ApprovalRequest | None:
    """Create the request for a flagged order unless one exists (webhook and poll may both see it)."""
    if await requests.by_order(session, shop=shop, order_gid=order.gid):
        return None
    new = machine.flag(shop, order, match)
    now = rt.now()
    policy = match.policy
    req = await requests.create(
        session, shop_domain=shop, order_gid=order.gid, order_name=order.name, status=Status.PENDING, version=0,
        policy_id=policy.id, policy_hash=rt.policies.file_hash, reasons=list(match.reasons),
        order_snapshot=order.snapshot(), channel=policy.channel, created_at=now, updated_at=now,
        creator=rt.policies.staff.get(order.staff_user_id or ""),
    )
    await audit.append(session, at=now, actor="holdfast", kind="request.created", shop_domain=shop,
                       request_id=req.id, data={**new.audit, "order": order.name, "source": source,
                                                "policy_hash": rt.policies.file_hash})
    enqueue_effects(session, rt, new.effects, request_id=req.id)
    for timer in timers.schedule(policy.timers, now):
        enqueue_timer(session, request_id=req.id, timer=timer, now=now)
    await flood.note_request(session, rt, channel=policy.channel, now=now)
    return req


def enqueue_timer(session: AsyncSession, *, request_id: int, timer: timers.Timer, now: datetime) -> None:
    """A request's timer as a job due at its time (bot/jobs/timers.py re-checks the request when it fires)."""
    jobs.enqueue(session, kind=JobKind.TIMER, key=timers.timer_key(request_id, timer.kind), now=now, run_at=timer.at,
                 payload={"request_id": request_id, "timer": timer.kind.value, "n": timer.n})


def view_of(rt: Runtime, req: ApprovalRequest, decisions: list[Decision] | tuple[Decision, ...] = ()) -> RequestView:
    """The message's view of a stored request and its votes."""
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
    )
