"""When a hold must wait: fulfillment orders Shopify has not made yet, or that are scheduled to open later.

Shopify routes an order's fulfillment orders asynchronously: they may appear seconds or minutes after the order
(and fulfillment_orders/order_routing_complete says when), and a prepaid subscription's or pre-order's are
SCHEDULED until their fulfillAt, when fulfillment_orders/scheduled_fulfillment_order_ready is sent
(https://shopify.dev/docs/api/webhooks/latest; FulfillmentOrderStatus.SCHEDULED: "deferred and will be ready for
fulfillment after the date and time specified in fulfill_at",
https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentOrderStatus). Those webhooks wake the hold job;
this module says when it looks again by itself, and when it stops waiting. Pure: time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MIN_LOOK = timedelta(seconds=5)  # the first looks come quickly: routing usually takes seconds
MAX_LOOK = timedelta(minutes=5)  # ... then every five minutes at most (the webhooks wake the job sooner)
SCHEDULED_LOOK = timedelta(hours=6)  # a scheduled FO weeks away is looked at a few times a day, and at its time
AFTER_DUE = timedelta(seconds=30)  # look just after a scheduled FO is due (Shopify opens it then)


@dataclass(frozen=True)
class Waiting:
    """Look again at `at`; `why` is what the message shows ("not held yet: …")."""

    at: datetime
    why: str


@dataclass(frozen=True)
class GaveUp:
    """Waited long enough: the hold failed, for this reason."""

    why: str


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def waiting_for(fos: list[dict[str, Any]], *, job_created: datetime, now: datetime,
                wait_s: float) -> Waiting | GaveUp | None:
    """What the hold waits for, given the order's fulfillment orders as the API shows them (None: nothing)."""
    scheduled = [fo for fo in fos if fo.get("status") == "SCHEDULED"]
    if fos and not scheduled:
        return None
    wait = timedelta(seconds=wait_s)
    steady = min(MAX_LOOK, max(MIN_LOOK, (now - job_created) / 2))
    if not fos:
        deadline = job_created + wait
        if now >= deadline:
            return GaveUp(f"Shopify made no fulfillment orders for this order within {_span(wait)}")
        return Waiting(min(now + steady, deadline), "Shopify has not made this order's fulfillment orders yet; "
                       f"holdfast holds them as soon as they appear (until {deadline:%Y-%m-%d %H:%M} UTC)")
    due = [d for d in (_when(fo.get("fulfillAt")) for fo in scheduled) if d is not None]
    first = min(due) if due else None
    deadline = (max(due) if due else job_created) + wait
    if now >= deadline:
        return GaveUp(f"its scheduled fulfillment orders did not open by {deadline:%Y-%m-%d %H:%M} UTC")
    if first is not None and first > now:
        at = min(first + AFTER_DUE, now + SCHEDULED_LOOK)
        return Waiting(at, f"fulfillment is scheduled for {first:%Y-%m-%d %H:%M} UTC; holdfast holds it as soon "
                           "as it opens")
    return Waiting(min(now + steady, deadline), "its scheduled fulfillment orders are due but not open yet; "
                                                "holdfast holds them as soon as they open")


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} seconds"
