"""The ShipStation jobs: hold a flagged order's shipment (found with a bounded, visible wait), then apply the decision.

Each reads the shipment first and makes only the calls that differ from what the rules want (plan.py), so a
retry, a duplicate job or a reconciliation re-queue changes nothing that is done already.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.requests.common import load_request
from bot.features.shipstation import plan
from bot.features.shipstation import service as ss_service
from bot.features.shipstation.service import Refused, record
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from storage import jobs, requests
from storage import shipstation as store
from storage.models import ApprovalRequest, Job

log = logging.getLogger(__name__)


async def _record_of(rt: Runtime, req: ApprovalRequest) -> Any | None:
    async with rt.sessions() as session:
        return await store.get(session, request_id=req.id)


def _look_again(rt: Runtime, job: Job, req: ApprovalRequest, existing: Any | None) -> Apply:
    """Not imported yet: say so on the message (once), and look again in find_every_s without spending a try."""
    until = ss_service.look_until(rt, req)

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        if existing is None or existing.state != "looking" or existing.looked_until is None:
            await record(rt, session, req, kind=None, state="looking", looked_until=until)
        run_at = min(until, now + timedelta(seconds=rt.settings.shipstation_find_every_s))
        await jobs.defer(session, job=job, run_at=run_at, now=now,
                         reason=f"waiting: ShipStation has not imported {req.order_name} yet")

    return apply


def _not_found(rt: Runtime, req: ApprovalRequest) -> Apply:
    async def apply(session: AsyncSession) -> None:
        await record(rt, session, req, kind="shipstation.not_found", state="not_found",
                     detail=f"{req.order_name} not found in ShipStation by "
                            f"{ss_service.look_until(rt, req):%Y-%m-%d %H:%M} UTC",
                     data={"order": req.order_name, "looked_for_s": rt.settings.shipstation_find_for_s})
    return apply


async def _find(rt: Runtime, job: Job, ss: Any, req: ApprovalRequest, existing: Any | None) -> Any | Apply:
    """The shipment, or what to do while it is not there: look again, or give up at the bound."""
    shipment = await ss_service.locate(rt, ss, req, existing, job.payload)
    if shipment is not None:
        return shipment
    if rt.now() < ss_service.look_until(rt, req):
        return _look_again(rt, job, req, existing)
    if existing is not None and existing.state == "not_found":
        return None  # said already
    return _not_found(rt, req)


def _failed(rt: Runtime, req: ApprovalRequest, *, state: str, why: str, shipment: Any | None) -> Apply:
    async def apply(session: AsyncSession) -> None:
        fields = ss_service.of_shipment(shipment) if shipment is not None else {}
        await record(rt, session, req, kind="shipstation.failed", state=state, detail=why, **fields,
                     data={"why": why, **(ss_service.shows(shipment) if shipment is not None else {})})
    return apply


async def flag(rt: Runtime, job: Job) -> Apply | None:
    """Find the order's shipment, tag it and hold it until a date that outlasts the request."""
    req = await load_request(rt, job)
    rules, ss = ss_service.rules_of(rt, req), await ss_service.client(rt, req.shop_domain)
    if rules is None or ss is None:
        return None  # the policy has no shipstation: block now, or the shop has no key (connector off)
    existing = await _record_of(rt, req)
    if req.status != "pending":
        return None  # decided while it was looked for: never held; the decision's job (queued after this) acts
    found = await _find(rt, job, ss, req, existing)
    if found is None or callable(found):
        return found
    shipment = found
    policy = rt.policies.get(req.policy_id)
    until = plan.hold_until(today=rt.now().date(), hold_days=rt.settings.shipstation_hold_days,
                            expire_after=policy.timers.expire_after if policy else None, created_at=req.created_at)
    steps = plan.for_flag(shipment, rules, until=until)
    if isinstance(steps, plan.Refusal):
        return _failed(rt, req, state="hold_failed", why=steps.why, shipment=shipment)
    try:
        now_shows = await ss_service.apply_steps(rt, ss, req, shipment, steps)
    except Refused as exc:
        return _failed(rt, req, state="hold_failed", why=f"could not hold it: {exc}", shipment=shipment)
    state = "held"
    said = existing is not None and existing.state == state and not steps

    async def apply(session: AsyncSession) -> None:
        await record(rt, session, req, kind=None if said else "shipstation.held", state=state, detail=None,
                     **ss_service.of_shipment(now_shows),
                     data={**ss_service.shows(now_shows), "changed": [s.action for s in steps]})

    return apply


async def _warehouse(rt: Runtime, ss: Any, req: ApprovalRequest, name: str | None) -> tuple[str | None, str | None]:
    """(warehouse_id, refusal) for the policy's warehouse name, matched as ShipStation lists them."""
    if not name:
        return None, None
    listed = list(await ss_service.call(ss.warehouses(), shop=req.shop_domain) or [])
    match = next((w for w in listed if w.name.casefold() == name.casefold()), None)
    if match is None:
        known = ", ".join(f'"{w.name}"' for w in listed) or "none"
        return None, (f'could not route it: ShipStation has no warehouse named "{name}" (it has {known}); fix '
                      f"shipstation.on_approve.warehouse in policy {req.policy_id}")
    return str(match.warehouse_id), None


async def decide(rt: Runtime, job: Job) -> Apply | None:
    """Apply the decision: approved → routed (tags, warehouse) then restored; rejected → tags, hold kept or not."""
    req = await load_request(rt, job)
    rules, ss = ss_service.rules_of(rt, req), await ss_service.client(rt, req.shop_domain)
    if rules is None or ss is None:
        return None
    status = str(job.payload.get("status") or req.status)
    existing = await _record_of(rt, req)
    found = await _find(rt, job, ss, req, existing)
    if found is None or callable(found):
        return found
    shipment = found
    approved = status == "approved"
    warehouse_id, why = await _warehouse(rt, ss, req, rules.on_approve.warehouse if approved else None)
    if why:
        return _failed(rt, req, state="route_failed", why=why, shipment=shipment)
    steps = plan.for_decision(shipment, rules, status=status, warehouse_id=warehouse_id)
    if isinstance(steps, plan.Refusal):
        return _failed(rt, req, state="route_failed", why=steps.why, shipment=shipment)
    try:
        now_shows = await ss_service.apply_steps(rt, ss, req, shipment, steps)
    except Refused as exc:
        return _failed(rt, req, state="route_failed", why=f"could not apply the decision: {exc}", shipment=shipment)
    state = plan.final_state(status=status, rules=rules)
    restored = any(s.action == "restore" for s in steps)
    kind = ("shipstation.routed" if approved and state == "routed" else
            "shipstation.restored" if restored or approved else "shipstation.kept")
    detail = f"ships from {rules.on_approve.warehouse}" if approved and warehouse_id else None
    said = existing is not None and existing.state == state and not steps

    async def apply(session: AsyncSession) -> None:
        await record(rt, session, req, kind=None if said else kind, state=state, detail=detail,
                     **ss_service.of_shipment(now_shows),
                     data={**ss_service.shows(now_shows), "decision": status, "changed": [s.action for s in steps]})

    return apply


async def _dead(rt: Runtime, session: AsyncSession, job: Job, error: str, *, state: str) -> None:
    req = await requests.get(session, request_id=job.payload["request_id"])
    if req is not None:  # the message says it too, not only the job.dead row (which names the fix)
        await record(rt, session, req, kind=None, state=state, detail=f"gave up: {error}")


async def flag_dead(rt: Runtime, session: AsyncSession, job: Job, error: str) -> None:
    """The hold job ran out of tries (or the key was refused): the message says the shipment is not held."""
    await _dead(rt, session, job, error, state="hold_failed")


async def decide_dead(rt: Runtime, session: AsyncSession, job: Job, error: str) -> None:
    """The decision job ran out of tries (or the key was refused): the message says ShipStation was not changed.

    A held shipment stays "held", so the reconciliation pass re-queues the decision once ShipStation answers again
    (a refusal for good is route_failed, from the job itself, and is not retried)."""
    req = await requests.get(session, request_id=job.payload["request_id"])
    row = await store.get(session, request_id=req.id) if req is not None else None
    if req is not None and row is not None and row.state == "held":
        await record(rt, session, req, kind=None, state="held",
                     detail=f"the decision is not applied yet ({error}); the next reconciliation tries again")
        return
    await _dead(rt, session, job, error, state="route_failed")
