"""The periodic ShipStation pass over one shop: compare what ShipStation shows with what holdfast recorded, and
re-queue the step that did not land (or was undone by hand).

- undecided, but the shipment is not on hold (it released itself, or someone restored it) or lost its tags →
  the hold step again;
- undecided, and the hold ends within plan.EXTEND_WITHIN → the hold step again (it pushes the date out);
- decided, but ShipStation does not show the decision (still on hold, tags missing) → the decision step again.
The steps are the ordinary jobs, so what they change is read, compared and audited as on their first run.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import JobKind, periodic_key, shipstation_key
from bot.features.shipstation import plan
from bot.features.shipstation import service as ss_service
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from storage import audit, jobs, requests
from storage import shipstation as store
from storage.db import transaction
from storage.models import ApprovalRequest, Job

log = logging.getLogger(__name__)
PER_PASS = 200  # rows looked at per pass (least recently touched first): a big backlog spreads over passes
DECIDED = ("approved", "rejected", "expired")


def _why(req: ApprovalRequest, shipment: Any, rules: Any, today: Any) -> tuple[JobKind, str] | None:
    """The step to re-queue for this request, and why; None when ShipStation shows what holdfast recorded."""
    if req.status == "pending":
        if rules.on_flag.hold and shipment.status != plan.ON_HOLD and shipment.status not in plan.PAST_HOLDING:
            return JobKind.SHIPSTATION_FLAG, f"undecided but ShipStation shows it {shipment.status}, not on hold"
        have = {t.casefold() for t in shipment.tags}
        if any(t.casefold() not in have for t in rules.on_flag.tags):
            return JobKind.SHIPSTATION_FLAG, "undecided but its tags are missing in ShipStation"
        if rules.on_flag.hold and plan.needs_extending(hold_end=shipment.hold_until, today=today):
            return JobKind.SHIPSTATION_FLAG, f"undecided and its hold ends on {shipment.hold_until}: extend it"
        return None
    if req.status in DECIDED:
        # The warehouse is left out here: its id needs a warehouses() call, and the decision step checks it.
        steps = plan.for_decision(shipment, rules, status=req.status, warehouse_id=None)
        if steps and not isinstance(steps, plan.Refusal):
            return JobKind.SHIPSTATION_DECIDE, f"decided ({req.status}) but ShipStation still needs: " + ", ".join(
                s.action + (f" {s.arg}" if s.arg else "") for s in steps)
    return None


async def run_pass(rt: Runtime, job: Job) -> Apply | None:
    """One shop's pass (queued by the scheduler's "shipstation-reconcile" period)."""
    shop = job.payload["shop"]
    ss = await ss_service.client(rt, shop)
    if ss is None:
        return None  # no key any more: the connector is off for this shop
    async with rt.sessions() as session:
        rows = await store.pending_for_reconcile(session, shops=[shop], limit=PER_PASS)
        found = await requests.many(session, ids=[r.request_id for r in rows]) if rows else {}
    today, todo = rt.now().date(), []
    for row in rows:
        req = found.get(row.request_id)
        rules = ss_service.rules_of(rt, req) if req is not None else None
        if req is None or rules is None or not row.shipment_id:
            continue  # still being looked for: its own job is on it (and gives up at its bound)
        shipment = await ss_service.call(ss.get(row.shipment_id), shop=shop)
        why = _why(req, shipment, rules, today)
        if why is not None:
            todo.append((req, why, ss_service.shows(shipment)))
    if not todo:
        return None

    async def apply(session: AsyncSession) -> None:
        for req, (kind, why), shows in todo:
            await requeue(rt, session, req, kind=kind, why=why, shows=shows)

    return apply


async def requeue(rt: Runtime, session: AsyncSession, req: ApprovalRequest, *, kind: JobKind, why: str,
                  shows: dict[str, Any]) -> bool:
    """Queue the step again unless one waits already (it reads the shipment itself); audited."""
    key = shipstation_key(req.shop_domain, req.order_gid)
    if await jobs.queued(session, key=key, kind=kind):
        return False
    payload: dict[str, Any] = {"request_id": req.id, "order_gid": req.order_gid, "order_name": req.order_name,
                               "order_legacy_id": req.order_gid.rsplit("/", 1)[-1]}
    if kind is JobKind.SHIPSTATION_DECIDE:
        rt.enqueue(session, JobKind.SHIPSTATION_DECIDE, key=key, payload={**payload, "status": req.status})
    else:
        rt.enqueue(session, JobKind.SHIPSTATION_FLAG, key=key, payload=payload)
    await audit.append(session, at=rt.now(), actor="holdfast", kind="shipstation.requeued", shop_domain=req.shop_domain,
                       request_id=req.id, data={"job": kind.value, "why": why, "shipstation": shows})
    log.info("%s %s: ShipStation re-queued %s: %s", req.shop_domain, req.order_name, kind.value, why)
    return True


async def run_now(rt: Runtime, *, shop: str) -> None:
    """Queue one pass over `shop` now (tests, the CLI)."""
    async with transaction(rt.sessions) as session:
        key = periodic_key(JobKind.SHIPSTATION_RECONCILE, shop)
        rt.enqueue(session, JobKind.SHIPSTATION_RECONCILE, key=key, payload={"shop": shop, "period": "now"})
    rt.wake_worker()
