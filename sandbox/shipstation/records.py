"""The stand-in's data: accounts (one per Shopify shop), their warehouses and tags, and shipments as the V2 API
shows them (GET /v2/shipments/{id}: https://docs.shipstation.com/apis/openapi/shipments/get_shipment_by_external_id
lists the fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

# Statuses (https://docs.shipstation.com/list-shipments: pending, processing, label_purchased, cancelled; on_hold
# while held: https://docs.shipstation.com/hold-and-restore-shipments).
PENDING, PROCESSING, LABEL_PURCHASED, CANCELLED, ON_HOLD = (
    "pending", "processing", "label_purchased", "cancelled", "on_hold")
STATUSES = (PENDING, PROCESSING, LABEL_PURCHASED, CANCELLED, ON_HOLD)


def iso(moment: datetime) -> str:
    """A timestamp as ShipStation writes it: UTC, milliseconds, Z."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def midnight(day: date) -> str:
    # "Responses return the value at midnight, for example "2026-10-15T00:00:00Z""
    # (https://docs.shipstation.com/hold-and-restore-shipments).
    return f"{day.isoformat()}T00:00:00Z"


@dataclass
class Address:
    name: str = ""
    company_name: str | None = None
    phone: str = ""
    address_line1: str = ""
    address_line2: str | None = None
    city_locality: str = ""
    state_province: str = ""
    postal_code: str = ""
    country_code: str = "US"
    address_residential_indicator: str = "unknown"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Warehouse:
    warehouse_id: str
    name: str
    is_default: bool
    created_at: datetime
    origin_address: Address

    def to_json(self) -> dict[str, Any]:
        # GET /v2/warehouses/{id} (https://docs.shipstation.com/apis/openapi/warehouses/get_warehouse_by_id);
        # no return address given: the origin is the return address ("If the return address is not supplied ...
        # it is assumed that the origin address is the return address as well", create_warehouse).
        return {"warehouse_id": self.warehouse_id, "is_default": self.is_default, "name": self.name,
                "created_at": iso(self.created_at), "origin_address": self.origin_address.to_json(),
                "return_address": self.origin_address.to_json()}


@dataclass
class Account:
    """One ShipStation account: the merchant's, linked to one Shopify store (its order source)."""

    shop: str
    api_key: str
    store_id: str
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # the account's tags, in creation order

    @property
    def default_warehouse(self) -> Warehouse:
        return next(w for w in self.warehouses.values() if w.is_default)

    def warehouse_named(self, name: str) -> Warehouse | None:
        return next((w for w in self.warehouses.values() if w.name == name), None)


@dataclass
class Shipment:
    shipment_id: str
    account: str  # the shop domain of the account it belongs to
    shipment_number: str
    external_shipment_id: str
    order_gid: str | None
    order_name: str | None
    created_at: datetime
    modified_at: datetime
    ship_to: dict[str, Any]
    ship_from: dict[str, Any]
    warehouse_id: str | None
    items: list[dict[str, Any]]
    store_id: str | None = None
    status: str = PENDING
    hold_until: date | None = None
    tags: list[str] = field(default_factory=list)
    label_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "shipment_id": self.shipment_id, "carrier_id": None, "service_code": None,
            "requested_shipment_service": None, "shipping_rule_id": None,
            # Imported orders: external_shipment_id is V1's orderKey and shipment_number V1's orderNumber
            # (https://docs.shipstation.com/orders/understanding-orders-shipments.md); external_order_id is not
            # documented for imported orders: null, the harsher reading (a client cannot lean on it).
            "external_order_id": None, "external_shipment_id": self.external_shipment_id,
            "shipment_number": self.shipment_number, "hold_until_date": midnight(self.hold_until)
            if self.hold_until else None, "ship_date": None, "created_at": iso(self.created_at),
            "modified_at": iso(self.modified_at), "shipment_status": self.status,
            "ship_to": self.ship_to, "ship_from": self.ship_from, "warehouse_id": self.warehouse_id,
            "return_to": self.ship_from, "is_return": False, "confirmation": "none", "customs": None,
            "external_order_id_source": None, "items": self.items,
            "tags": [{"name": t} for t in self.tags], "store_id": self.store_id,
            "packages": [], "total_weight": {"value": 0.0, "unit": "pound"},
        }
