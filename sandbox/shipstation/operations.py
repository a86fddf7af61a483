"""What each V2 endpoint does to an account, and every refusal it answers (raised as ApiError)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .errors import ApiError, bad_field, bad_status, not_found
from .records import CANCELLED, LABEL_PURCHASED, ON_HOLD, PENDING, PROCESSING, Account, Shipment

if TYPE_CHECKING:
    from .state import ShipStationSandbox


def shipment_of(sb: ShipStationSandbox, account: Account, shipment_id: str) -> Shipment:
    s = sb.shipments.get(shipment_id)
    if s is None or s.account != account.shop:  # another account's shipment does not exist for this key
        raise not_found(f"Shipment {shipment_id}")
    return s


def parse_hold_date(value: Any) -> date:
    # "It is a date-only value. You can send a plain YYYY-MM-DD date, and any time component you include is
    # ignored" (https://docs.shipstation.com/hold-and-restore-shipments).
    if value is None or value == "":
        raise bad_field("hold_until_date is required", code="field_value_required")
    if not isinstance(value, str):
        raise bad_field("hold_until_date must be a date string (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise bad_field(f"hold_until_date {value!r} is not a date (YYYY-MM-DD)") from None


def hold(sb: ShipStationSandbox, account: Account, shipment_id: str, body: Any) -> Shipment:
    """PUT /v2/shipments/{id}/hold (https://docs.shipstation.com/apis/openapi/shipments/hold_shipment)."""
    s = shipment_of(sb, account, shipment_id)
    until = parse_hold_date(body.get("hold_until_date") if isinstance(body, dict) else None)
    # "A cancelled shipment or a shipment with a purchased label cannot be held. Holding it returns a 400".
    if s.status in (CANCELLED, LABEL_PURCHASED):
        raise bad_status(f"Shipment {shipment_id} is {s.status} and cannot be held")
    # processing (a label being bought) is not named: refused too, the harsher reading.
    if s.status == PROCESSING:
        raise bad_status(f"Shipment {shipment_id} is processing and cannot be held")
    # "It must be later than today. Holding a shipment until today or an earlier date is rejected with a 400".
    if until <= sb.today():
        raise bad_field(f"hold_until_date must be later than today ({sb.today().isoformat()})")
    previous = s.hold_until
    # "Holding a shipment that is already on hold replaces the existing hold_until_date."
    s.status, s.hold_until, s.modified_at = ON_HOLD, until, sb.now()
    sb.record("hold", s, hold_until=until.isoformat(), replaced=previous.isoformat() if previous else None)
    return s


def restore(sb: ShipStationSandbox, account: Account, shipment_id: str) -> Shipment:
    """Restore from hold: back to pending, hold_until_date cleared. "A shipment must be on hold before you can
    restore it. Restoring a shipment in any other status returns a 400" (hold-and-restore page)."""
    s = shipment_of(sb, account, shipment_id)
    if s.status != ON_HOLD:
        raise bad_status(f"Shipment {shipment_id} is {s.status}, not on_hold: there is nothing to restore")
    s.status, s.hold_until, s.modified_at = PENDING, None, sb.now()
    sb.record("restore", s)
    return s


def check_tag(name: str) -> str:
    if not name.strip():
        raise bad_field("tag_name must not be empty", code="field_value_required")
    return name


def add_tag(sb: ShipStationSandbox, account: Account, shipment_id: str, name: str) -> Shipment:
    """POST /v2/shipments/{id}/tags/{tag_name}: "if you tag a shipment with a tag value that doesn't yet exist,
    we'll make the tag for you" (https://docs.shipstation.com/tag-shipments)."""
    s = shipment_of(sb, account, shipment_id)
    check_tag(name)
    # Tagging a shipment that already has the tag is not described: refused, the harsher reading (a client
    # reads the shipment's tags before it adds one).
    if name in s.tags:
        raise bad_field(f"Shipment {shipment_id} already has the tag {name!r}")
    if name not in account.tags:
        account.tags.append(name)
        sb.record("tag_create", s, tag=name)
    s.tags.append(name)
    s.modified_at = sb.now()
    sb.record("tag_add", s, tag=name)
    return s


def remove_tag(sb: ShipStationSandbox, account: Account, shipment_id: str, name: str) -> None:
    """DELETE /v2/shipments/{id}/tags/{tag_name}: 204 (https://docs.shipstation.com/apis/shipengine/docs/
    reference/remove-tag-from-shipment). A tag the shipment does not have: not described; 404, the harsher."""
    s = shipment_of(sb, account, shipment_id)
    if name not in s.tags:
        raise not_found(f"Tag {name!r} on shipment {shipment_id}")
    s.tags.remove(name)
    s.modified_at = sb.now()
    sb.record("tag_remove", s, tag=name)


def create_tag(account: Account, name: str) -> dict[str, str]:
    """POST /v2/tags/{tag_name} → {"name"} (https://docs.shipstation.com/tag-shipments). An existing tag: not
    described; 400, the harsher reading."""
    check_tag(name)
    if name in account.tags:
        raise bad_field(f"The tag {name!r} already exists")
    account.tags.append(name)
    return {"name": name}


# PUT /v2/shipments/{id}: "The following fields cannot be updated" (https://docs.shipstation.com/shipments/update);
# external_shipment_id is "Immutable: Cannot be changed after shipment creation"
# (https://docs.shipstation.com/orders/external-identifiers). Sending one with its current value is accepted
# (ShipStation's own example sends shipment_status, created_at and modified_at back); a different value is refused.
READ_ONLY = ("shipment_id", "created_at", "modified_at", "shipment_status", "tags", "total_weight",
             "external_shipment_id", "hold_until_date")


def update(sb: ShipStationSandbox, account: Account, shipment_id: str, body: Any) -> Shipment:
    """PUT /v2/shipments/{id}: change a shipment before its label is bought."""
    s = shipment_of(sb, account, shipment_id)
    if not isinstance(body, dict):
        raise ApiError(400, "validation", "request_body_required", "The request body must be a JSON object")
    current = s.to_json()
    for name in READ_ONLY:
        if name in body and body[name] != current[name]:
            raise bad_field(f"{name} is read-only and cannot be updated")
    # "Use this endpoint to correct or modify shipment details before purchasing a label" (shipments/update).
    if s.status in (LABEL_PURCHASED, CANCELLED, PROCESSING):
        raise bad_status(f"Shipment {shipment_id} is {s.status} and can no longer be updated")
    # The V2 page says every field is optional; the API reference of the same endpoint says "You'll need the
    # ship_to and either the ship_from or warehouse_id properties"
    # (https://docs.shipstation.com/apis/shipengine/docs/reference/update-shipment): required, the harsher reading.
    if not isinstance(body.get("ship_to"), dict):
        raise bad_field("ship_to is required", code="field_value_required")
    if body.get("ship_from") is None and body.get("warehouse_id") is None:
        raise bad_field("ship_from or warehouse_id is required", code="field_value_required")
    if body.get("ship_from") is not None and body.get("warehouse_id") is not None:
        raise ApiError(400, "validation", "field_conflict", "ship_from and warehouse_id cannot both be given")
    before = s.warehouse_id
    if body.get("warehouse_id") is not None:
        warehouse = account.warehouses.get(str(body["warehouse_id"]))
        if warehouse is None:
            raise bad_field(f"warehouse_id {body['warehouse_id']!r} is not a warehouse of this account",
                            code="invalid_identifier")
        s.warehouse_id, s.ship_from = warehouse.warehouse_id, warehouse.origin_address.to_json()
    else:
        s.warehouse_id, s.ship_from = None, dict(body["ship_from"])
    s.ship_to = dict(body["ship_to"])
    if isinstance(body.get("items"), list):
        s.items = [dict(i) for i in body["items"]]
    if body.get("shipment_number") not in (None, s.shipment_number):
        number = str(body["shipment_number"])
        # "Each shipment_number must be unique within your ShipStation account" (docs.shipstation.com/orders/
        # shipment-numbers).
        if any(o.shipment_number == number for o in sb.shipments.values() if o.account == account.shop):
            raise bad_field(f"A shipment with shipment_number {number!r} already exists")
        s.shipment_number = number
    s.modified_at = sb.now()
    if s.warehouse_id != before:
        sb.record("warehouse", s, warehouse_id=s.warehouse_id, previous=before)
    sb.record("update", s, fields=sorted(body))
    return s


def parse_moment(name: str, value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise bad_field(f"{name} {value!r} is not an ISO 8601 timestamp") from None
