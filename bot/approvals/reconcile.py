"""Reconciliation decisions: compare what Shopify says with what holdfast stored (pure: no I/O, time passed in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.approvals.machine import HOLD_HANDLE, Status

OPEN_FO = ("OPEN", "ON_HOLD", "SCHEDULED", "IN_PROGRESS")


@dataclass(frozen=True)
class FoState:
    """One fulfillment order as Shopify reports it, with our hold ids on it."""

    gid: str
    status: str
    our_holds: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderState:
    """What reconciliation needs of an order in Shopify."""

    gid: str
    cancelled: bool
    fulfilled: bool
    tags: tuple[str, ...] = ()
    fos: tuple[FoState, ...] = ()

    @property
    def our_holds(self) -> set[str]:
        """Every hold of ours still on the order."""
        return {h for fo in self.fos for h in fo.our_holds}

    @property
    def open_fos(self) -> tuple[FoState, ...]:
        """Fulfillment orders that could still ship."""
        return tuple(fo for fo in self.fos if fo.status in OPEN_FO)


def order_state(node: dict[str, Any]) -> OrderState:
    """An `Order` node (with cancelledAt, displayFulfillmentStatus, tags, fulfillmentOrders) as OrderState."""
    fos = tuple(
        FoState(fo["id"], fo.get("status") or "", tuple(h["id"] for h in fo.get("fulfillmentHolds") or []
                                                         if h.get("handle") == HOLD_HANDLE))
        for fo in (node.get("fulfillmentOrders") or {}).get("nodes") or []
    )
    return OrderState(gid=node["id"], cancelled=bool(node.get("cancelledAt")),
                      fulfilled=node.get("displayFulfillmentStatus") == "FULFILLED",
                      tags=tuple(node.get("tags") or ()), fos=fos)


def decided_before(order_tags: tuple[str, ...] | list[str], decision_tags: frozenset[str]) -> str | None:
    """The decision tag an order carries, if any. Shopify's side is the record: an order holdfast approved,
    rejected or let expire is never flagged again, even by a database that has no row of it (a fresh one, a move
    to PostgreSQL, a start from another directory)."""
    return next((t for t in order_tags if t in decision_tags), None)


def before_install(created_at: str | datetime | None, floor: datetime | None) -> bool:
    """True for an order created before `floor` (the shop's install time here, or `--since`): on a database that
    never saw the shop's older orders, they are history, not new orders to hold."""
    if floor is None or created_at is None:
        return False
    when = datetime.fromisoformat(created_at.replace("Z", "+00:00")) if isinstance(created_at, str) else created_at
    return when < floor.replace(microsecond=0)  # Shopify's times are to the second: an order of that second is new


def should_flag(order: OrderState) -> bool:
    """A missed order is worth a request only while it can still ship."""
    return not order.cancelled and not order.fulfilled


@dataclass(frozen=True)
class Tracked:
    """What holdfast stored about a request, for comparison."""

    id: int
    status: str
    hold_state: str
    hold_ids: tuple[str, ...]
    pending_tag: str
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Close:
    """The order ended outside holdfast: close the pending request."""

    reason: str  # cancelled | fulfilled | deleted
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HoldReleased:
    """Some or all of our holds were released outside holdfast."""

    released: tuple[str, ...]
    remaining: tuple[str, ...]


@dataclass(frozen=True)
class Unheld:
    """Fulfillment orders appeared (an edit, a split) without our hold: hold them again."""

    fulfillment_orders: tuple[str, ...]


@dataclass(frozen=True)
class Requeue:
    """A decision's Shopify effects did not land: run them again."""

    release: bool
    tags: bool
    detail: dict[str, Any] = field(default_factory=dict)


def check_pending(req: Tracked, order: OrderState | None) -> Close | HoldReleased | Unheld | None:
    """What changed in Shopify for a pending request, if anything."""
    if order is None:
        return Close("deleted")
    if order.cancelled:
        return Close("cancelled")
    if order.fulfilled:
        return Close("fulfilled")
    if req.hold_state != "placed":
        return None  # the hold job still owns the hold; nothing to compare with yet
    ours = order.our_holds
    gone = tuple(h for h in req.hold_ids if h not in ours)
    if gone:
        return HoldReleased(gone, tuple(h for h in req.hold_ids if h in ours))
    unheld = tuple(fo.gid for fo in order.open_fos if fo.status == "OPEN" and not fo.our_holds)
    return Unheld(unheld) if unheld else None


def check_decided(req: Tracked, order: OrderState | None, *, now: datetime, grace: timedelta,
                  busy: bool) -> Requeue | None:
    """Whether a decided request's Shopify effects are missing once its own jobs had their chance."""
    if order is None or order.cancelled or busy or req.decided_at is None or now - req.decided_at < grace:
        return None
    release = req.status == Status.APPROVED and bool(order.our_holds)
    tags = req.status in (Status.APPROVED, Status.REJECTED, Status.EXPIRED) and \
        req.pending_tag.lower() in {t.lower() for t in order.tags}
    if not (release or tags):
        return None
    detail: dict[str, Any] = {}
    if release:
        detail["holds_still_on"] = sorted(order.our_holds)
    if tags:
        detail["tag_still_on"] = req.pending_tag
    return Requeue(release, tags, detail)


def watermark_query(since: datetime, overlap: timedelta, until: datetime) -> str:
    """The orders search for one reconciliation pass, from the watermark (less an overlap, so same-second updates
    are not lost) to the pass's start: orders updated meanwhile (by our own holds and tags, often) move to the
    end of a list sorted by update time, and without an end the pass would chase them page after page."""
    start, end = since - overlap, until.replace(microsecond=0) + timedelta(seconds=1)  # whole seconds, rounded out
    return f"updated_at:>'{start.strftime('%Y-%m-%dT%H:%M:%SZ')}' updated_at:<='{end.strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def advance(watermark: datetime, seen: list[datetime]) -> datetime:
    """The new watermark: the latest updatedAt read (never moves backwards)."""
    return max([watermark, *seen])
