"""What the ShipStation jobs share: the shop's client, the policy's rules, finding the shipment, calling ShipStation
with its failures mapped for the worker, and recording what ShipStation now shows.

Failures (https://docs.shipstation.com/rate-limits): a 429 means ShipStation did nothing, so its Retry-After is a
wait, not a failure (`Deferred`: the executors are wrapped in slack_calls.deferrable, the worker's one way of
giving an attempt back; that is safe here because every job reads the shipment and acts only on the difference).
5xx and timeouts retry with backoff; a refused key (401/403) is dead at once with the fix in its `job.dead` row.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.requests.common import redraw_once
from bot.features.shipstation import plan
from bot.jobs.errors import Deferred, GiveUp, RetryLater
from bot.runtime import Runtime
from bot.shipstation.accounts import client_for
from bot.shipstation.errors import ShipStationAuthError, ShipStationError, ShipStationRateLimited, ShipStationTransient
from storage import audit, requests
from storage import shipstation as store
from storage.models import ApprovalRequest

log = logging.getLogger(__name__)


class Refused(Exception):
    """ShipStation refused a change for good (a label bought, a cancelled shipment): recorded, not retried."""


def rules_of(rt: Runtime, req: ApprovalRequest) -> Any | None:
    """The policy's `shipstation:` rules for this request (None: the policy has none now, or is gone)."""
    policy = rt.policies.get(req.policy_id)
    return policy.shipstation if policy is not None else None


async def client(rt: Runtime, shop: str) -> Any | None:
    """The shop's ShipStation client; None when the shop has no key (the connector is off for it)."""
    return await client_for(rt, shop)


async def call(awaitable: Any, *, shop: str) -> Any:
    """Await one ShipStation call with its failures mapped: wait, retry, dead (bad key), or Refused."""
    try:
        return await awaitable
    except ShipStationRateLimited as exc:
        raise Deferred("ShipStation rate limit (429)", retry_after=max(0.0, float(exc.retry_after_s or 1))) from exc
    except ShipStationAuthError as exc:
        raise GiveUp(f"ShipStation refused the API key of {shop} ({exc.status}): put a valid key for it in "
                     "SHIPSTATION_API_KEYS (or `holdfast shipstation key`), then `holdfast jobs retry` this job") from exc
    except ShipStationTransient as exc:
        raise RetryLater(f"ShipStation unavailable: {exc}") from exc
    except ShipStationError as exc:
        raise Refused(exc.message or str(exc)) from exc
    except TimeoutError as exc:
        raise RetryLater("ShipStation did not answer in time") from exc


def pick(shipments: list[Any]) -> Any | None:
    """The order's shipment: one not cancelled if there is one (a re-import leaves the old one cancelled)."""
    live = [s for s in shipments if s.status != "cancelled"]
    return (live or shipments or [None])[0]


async def locate(rt: Runtime, ss: Any, req: ApprovalRequest, record: Any, payload: dict[str, Any]) -> Any | None:
    """The request's shipment: by its recorded id, else looked up by the order (None: not imported yet)."""
    if record is not None and record.shipment_id:
        return await call(ss.get(record.shipment_id), shop=req.shop_domain)
    legacy = str(payload.get("order_legacy_id") or req.order_gid.rsplit("/", 1)[-1])
    found = await call(ss.find_for_order(req.order_name, legacy), shop=req.shop_domain)
    return pick(list(found or []))


def look_until(rt: Runtime, req: ApprovalRequest) -> Any:
    """The end of the bounded wait for ShipStation to import the order: find_for_s after the flag."""
    return req.created_at + timedelta(seconds=rt.settings.shipstation_find_for_s)


async def apply_steps(rt: Runtime, ss: Any, req: ApprovalRequest, shipment: Any,
                      steps: tuple[plan.Step, ...]) -> Any:
    """Make the planned calls in order, then read the shipment back: what is recorded is what ShipStation shows."""
    sid, shop = shipment.shipment_id, req.shop_domain
    for step in steps:
        if step.action == "hold":
            await call(ss.hold(sid, step.arg), shop=shop)
        elif step.action == "restore":
            await call(ss.restore(sid), shop=shop)
        elif step.action == "add_tag":
            await call(ss.add_tag(sid, step.arg), shop=shop)
        elif step.action == "remove_tag":
            await call(ss.remove_tag(sid, step.arg), shop=shop)
        elif step.action == "warehouse":
            await call(ss.set_warehouse(sid, step.arg), shop=shop)
    return await call(ss.get(sid), shop=shop) if steps else shipment


def shows(shipment: Any) -> dict[str, Any]:
    """What ShipStation shows of a shipment, for the audit log."""
    return {"shipment_id": shipment.shipment_id, "status": shipment.status,
            "hold_until": shipment.hold_until.isoformat() if shipment.hold_until else None,
            "tags": list(shipment.tags), "warehouse_id": shipment.warehouse_id}


async def record(rt: Runtime, session: AsyncSession, req: ApprovalRequest, *, kind: str | None,
                 data: dict[str, Any] | None = None, **fields: Any) -> None:
    """Store the request's ShipStation state, audit `kind` (None: nothing new to say), and redraw the message."""
    now = rt.now()
    await store.upsert(session, request_id=req.id, shop=req.shop_domain, now=now, **fields)
    if kind is not None:
        await audit.append(session, at=now, actor="shipstation", kind=kind, shop_domain=req.shop_domain,
                           request_id=req.id, data={"state": fields.get("state"), **(data or {})})
        log.info("%s %s: %s", req.shop_domain, req.order_name, kind)
    current = await requests.get(session, request_id=req.id)
    # Not posted yet: the post draws this state (and redraws if it changes while it posts).
    if current is not None and current.message_ts:
        await redraw_once(rt, session, current)


def of_shipment(shipment: Any) -> dict[str, Any]:
    """The record's columns that mirror the shipment."""
    return {"shipment_id": shipment.shipment_id, "hold_until": shipment.hold_until, "tags": list(shipment.tags),
            "warehouse_id": shipment.warehouse_id}
