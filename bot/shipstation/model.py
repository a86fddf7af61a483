"""ShipStation's objects as holdfast reads them (pure: parsing only, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

# A shipment's statuses: the four of the list filter (https://docs.shipstation.com/list-shipments) plus on_hold,
# which a held shipment shows (https://docs.shipstation.com/hold-and-restore-shipments).
PENDING, PROCESSING, LABEL_PURCHASED, CANCELLED, ON_HOLD = (
    "pending", "processing", "label_purchased", "cancelled", "on_hold")


@dataclass(frozen=True)
class Shipment:
    """A ShipStation V2 shipment (what the ShipStation UI and V1 call an order)."""

    shipment_id: str
    status: str
    hold_until: date | None
    tags: tuple[str, ...]
    warehouse_id: str | None
    shipment_number: str | None  # the order number the store gave it (V1's orderNumber)
    external_shipment_id: str | None  # the store's own key for it (V1's orderKey)


@dataclass(frozen=True)
class Warehouse:
    """A ship-from location (https://docs.shipstation.com/apis/shipengine/docs/reference/list-warehouses)."""

    warehouse_id: str
    name: str


def _date(value: Any) -> date | None:
    # "Responses return the value at midnight, for example "2026-10-15T00:00:00Z"" (hold-and-restore-shipments):
    # the date part is the day; a plain "YYYY-MM-DD" is read too.
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _tag_names(raw: Any) -> tuple[str, ...]:
    # A shipment's tags are objects with a name ({"name": "Fragile"}); bare strings are accepted as well.
    names = [t.get("name") if isinstance(t, dict) else t for t in (raw or [])]
    return tuple(str(n) for n in names if n)


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def shipment(raw: dict[str, Any]) -> Shipment:
    """A Shipment from ShipStation's JSON (GET /v2/shipments/{id}, or one item of the list)."""
    return Shipment(shipment_id=str(raw["shipment_id"]), status=str(raw.get("shipment_status") or PENDING),
                    hold_until=_date(raw.get("hold_until_date")), tags=_tag_names(raw.get("tags")),
                    warehouse_id=_text(raw.get("warehouse_id")), shipment_number=_text(raw.get("shipment_number")),
                    external_shipment_id=_text(raw.get("external_shipment_id")))


def warehouse(raw: dict[str, Any]) -> Warehouse:
    """A Warehouse from one item of GET /v2/warehouses."""
    return Warehouse(warehouse_id=str(raw["warehouse_id"]), name=str(raw.get("name") or ""))


def order_numbers(order_name: str) -> frozenset[str]:
    """The shipment_number a store may give a Shopify order: its name ("#1001") or the bare number ("1001")."""
    name = order_name.strip()
    return frozenset({name, name.lstrip("#")} - {""})
