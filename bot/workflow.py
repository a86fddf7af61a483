"""Application service: load → pure core → save state, audit and jobs in ONE transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import machine
from bot.approvals.machine import AlreadyDecided, Decided, Effect, JobKind, Refused, RequestState, Status, Vote
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match
from bot.blocks.request_message import RequestView
from bot.runtime import Runtime
from storage import audit, jobs, requests, webhooks
from storage.db import transaction
from storage.models import ApprovalRequest

ORDER_TOPICS = frozenset({"orders/create", "orders/updated"})


def enqueue_effects(session: AsyncSession, rt: Runtime, effects: tuple[Effect, ...], *, request_id: int) -> None:
    """Write the core's effects as jobs in the caller's transaction."""
    now = rt.now()
    for effect in effects:
        attempts = rt.settings.hold_max_attempts if effect.kind is JobKind.HOLD else rt.settings.job_max_attempts
        jobs.enqueue(session, kind=effect.kind, key=effect.key, now=now, max_attempts=attempts,
                     payload={**effect.payload, "request_id": request_id})


async def accept_webhook(rt: Runtime, *, topic: str, shop: str, webhook_id: str, event_id: str | None,
                         body: dict[str, Any]) -> bool:
    """Store a verified delivery and its processing job; False for a duplicate."""
    now = rt.now()
    async with transaction(rt.sessions) as session:
        if not await webhooks.record(session, webhook_id=webhook_id, event_id=event_id, topic=topic, shop=shop, now=now):
            return False
        if topic in ORDER_TOPICS:
            jobs.enqueue(session, kind=JobKind.PROCESS_ORDER, key=f"order:{shop}:{body.get('id')}", now=now,
                         max_attempts=rt.settings.job_max_attempts,
                         payload={"shop": shop, "topic": topic, "webhook_id": webhook_id, "order": body})
    rt.wake_worker()
    return True


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
    )
    await audit.append(session, at=now, actor="holdfast", kind="request.created", shop_domain=shop,
                       request_id=req.id, data={**new.audit, "order": order.name, "source": source,
                                                "policy_hash": rt.policies.file_hash})
    enqueue_effects(session, rt, new.effects, request_id=req.id)
    return req


def state_of(req: ApprovalRequest) -> RequestState:
    """The machine's view of a stored request."""
    return RequestState(id=req.id, shop=req.shop_domain, order_gid=req.order_gid, status=Status(req.status),
                        version=req.version, policy_id=req.policy_id, requester=req.requester,
                        decided_by=req.decided_by, decided_at=req.decided_at)


def view_of(rt: Runtime, req: ApprovalRequest) -> RequestView:
    """The message's view of a stored request."""
    policy = rt.policies.get(req.policy_id)
    return RequestView(id=req.id, version=req.version, shop=req.shop_domain, status=req.status,
                       policy_title=policy.title if policy else req.policy_id, reasons=tuple(req.reasons),
                       order=req.order_snapshot, hold_state=req.hold_state, hold_error=req.hold_error,
                       decided_by=req.decided_by, decided_at=req.decided_at)


@dataclass(frozen=True)
class VoteResult:
    """What happened to a click, for the handler's reply."""

    outcome: str  # decided | refused | already | missing
    message: str | None = None


def _ephemeral(session: AsyncSession, rt: Runtime, req: ApprovalRequest, user: str, text: str) -> None:
    jobs.enqueue(session, kind=JobKind.EPHEMERAL, key=f"ephemeral:{user}", now=rt.now(),
                 payload={"request_id": req.id, "channel": req.channel, "user": user, "text": text})


def _already_text(result: AlreadyDecided) -> str:
    who = f" by <@{result.by}>" if result.by else ""
    when = f" at {result.at:%Y-%m-%d %H:%M} UTC" if result.at else ""
    return f"This request was already {result.status}{who}{when}."


async def vote(rt: Runtime, *, request_id: int, user: str, vote: Vote) -> VoteResult:
    """Apply a click: authorise, compare-and-set, and enqueue the outcome's effects."""
    now = rt.now()
    async with transaction(rt.sessions) as session:
        req = await requests.get(session, request_id=request_id)
        if req is None:
            return VoteResult("missing", "This request no longer exists.")
        policy = rt.policies.get(req.policy_id)
        result = machine.decide(state_of(req), policy, user, vote)
        if isinstance(result, Decided) and not await requests.compare_and_set(
            session, request_id=req.id, version=req.version, status=result.status, decided_by=user, now=now
        ):
            await session.refresh(req)  # someone else decided between our read and our write
            result = AlreadyDecided(Status(req.status), req.decided_by, req.decided_at)
        common = {"at": now, "actor": user, "shop_domain": req.shop_domain, "request_id": req.id}
        if isinstance(result, Refused):
            await audit.append(session, kind="vote.refused", data={"vote": vote, "reason": result.reason}, **common)
            _ephemeral(session, rt, req, user, result.reason)
            outcome = VoteResult("refused", result.reason)
        elif isinstance(result, AlreadyDecided):
            text = _already_text(result)
            await audit.append(session, kind="vote.too_late", data={"vote": vote, "status": result.status}, **common)
            _ephemeral(session, rt, req, user, text)
            outcome = VoteResult("already", text)
        else:
            await requests.add_decision(session, request_id=req.id, user_id=user, vote=vote, now=now)
            await audit.append(session, kind=f"request.{result.status}", data={"vote": vote, "order": req.order_name}, **common)
            enqueue_effects(session, rt, result.effects, request_id=req.id)
            outcome = VoteResult("decided")
    rt.wake_worker()
    return outcome
