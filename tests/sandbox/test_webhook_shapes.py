"""Sandbox webhook bodies have the shape of Shopify's real ones (../shared/shopify/webhooks/).

The comparison walks the key tree of a body the sandbox generates against the real sample:
- every key the sandbox sends exists in the sample, with the same JSON type (int and float are both "number"),
  nested objects included; list elements are compared with the merged shape of all the sample's elements;
- null: a sandbox null fits any sample key (Shopify sends null for any absent value: the sample itself has null
  strings, objects and numbers). A sample null says only "some value goes here": a sandbox scalar (string,
  number, boolean) may fill it, but an object or a non-empty list there (and in a list the sample leaves empty)
  must be declared in sandbox.shopify.rest.DOCUMENTED (a field Shopify's reference documents), whose shape is
  then compared the same way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.shopify import ShopifySandbox
from sandbox.shopify.rest import DOCUMENTED, documented, hold_released_body, placed_on_hold_body
from tests.conftest import shared_file

SHOP = "shape.myshopify.com"
NUMBER = "number"


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return NUMBER
    return {str: "string", dict: "object", list: "array"}[type(value)]


def shape(value: Any) -> Any:
    """A value's key tree: {key: shape} for objects, [merged element shape] for lists, else a set of types."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: Any = None
        for item in value:
            merged = merge(merged, shape(item))
        return [] if merged is None else [merged]
    return {_type(value)}


def merge(a: Any, b: Any) -> Any:
    """Two shapes as one (what either allows)."""
    if a is None or a == {"null"} or a == []:
        return b
    if b is None or b == {"null"} or b == []:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: merge(a.get(k), b.get(k)) for k in {**a, **b}}
    if isinstance(a, list) and isinstance(b, list):
        return [merge(a[0], b[0])]
    if isinstance(a, set) and isinstance(b, set):
        return a | b
    raise AssertionError(f"incompatible shapes {a!r} and {b!r}")


def with_documented(sample_shape: dict[str, Any]) -> dict[str, Any]:
    """The sample's shape plus rest.DOCUMENTED's fields at their paths ("a[].b" descends into list elements)."""
    out = json.loads(json.dumps(sample_shape, default=sorted))  # a deep copy (sets become sorted lists)

    def place(node: Any, parts: list[str], value: Any) -> Any:
        head, rest = parts[0], parts[1:]
        key, is_list = head.removesuffix("[]"), head.endswith("[]")
        inner = node.get(key)
        if is_list:
            element = inner[0] if inner else None
            node[key] = [place(element or {}, rest, value) if rest else merge(_sets(element), shape(value))]
        else:
            node[key] = place(inner or {}, rest, value) if rest else merge(_sets(inner), shape(value))
        return node

    for path, (_url, example) in DOCUMENTED.items():
        place(out, path.split("."), example)
    return _sets(out)


def _sets(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _sets(v) for k, v in node.items()}
    if isinstance(node, list) and node and all(isinstance(t, str) for t in node):
        return set(node)
    if isinstance(node, list):
        return [_sets(node[0])] if node else []
    return node


def problems(mine: Any, real: Any, path: str = "") -> list[str]:
    """Every way the sandbox shape `mine` is not allowed by the real shape `real`."""
    if mine == {"null"} or (mine == [] and real == []):
        return []  # a null fits any key the sample has; an empty list fits an empty list
    if real == {"null"} and isinstance(mine, set):
        return []  # the sample's null string/number/boolean: any scalar (objects and lists must be declared)
    if real == {"null"} or real == [] or real is None:
        return [f"{path or '.'}: sent {mine}, but the sample has no value here (declare it in rest.DOCUMENTED)"]
    if isinstance(mine, dict):
        if not isinstance(real, dict):
            return [f"{path}: an object, the sample has {real}"]
        return [p for k, v in mine.items() for p in (problems(v, real[k], f"{path}.{k}") if k in real
                                                      else [f"{path}.{k}: not in Shopify's sample"])]
    if isinstance(mine, list):
        if not isinstance(real, list):
            return [f"{path}: an array, the sample has {real}"]
        return problems(mine[0], real[0], f"{path}[]") if mine else []
    if isinstance(real, set):
        return [] if mine <= real | {"null"} else [f"{path}: {sorted(mine)}, the sample has {sorted(real)}"]
    return [f"{path}: {sorted(mine)}, the sample has {real}"]


def sample(name: str) -> Any:
    return json.loads(shared_file("shopify", "webhooks", f"{name}.shopify-docs-2026-07.json").read_text())


@pytest.fixture
def sb() -> ShopifySandbox:
    sandbox = ShopifySandbox()
    sandbox.add_shop(SHOP, access_token="shpat_shape")
    return sandbox


def full_order(sb: ShopifySandbox):
    """An order using every field the sandbox can fill, so every key is compared with a value."""
    address = {"first_name": "Ann", "last_name": "Lee", "company": "Acme", "address1": "1 Rue", "address2": "Apt 2",
               "city": "Paris", "province": "Paris", "province_code": "75", "country": "France", "country_code": "FR",
               "zip": "75001", "phone": "+33100000000"}
    return sb.create_order(
        SHOP, line_items=[{"title": "Mug", "sku": "MUG-1", "quantity": 2, "price": "12.00", "vendor": "Acme",
                           "product_type": "Kitchen", "variant_title": "Blue", "total_discount": "1.00",
                           "properties": [{"name": "engraving", "value": "Hi"}]},
                          {"title": "Gift note", "quantity": 1, "price": "0.00", "requires_shipping": False}],
        customer={"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "phone": "+33100000000",
                  "note": "VIP", "tags": ["staff"], "orders_count": 3},
        email="ann@example.com", phone="+33100000000", tags=["staff", "vip"], note="Leave at door",
        note_attributes=[{"name": "order_type", "value": "sample"}], po_number="PO-1", user_id=42,
        discount_codes=[{"code": "INFLUENCER100", "amount": "24.00", "type": "percentage"}], total_discounts="24.00",
        shipping_address=address, billing_address=address, shipping_price="5.00", total_tax="1.20",
        company="Acme Wholesale", payment_terms="Net 30", financial_status="pending",
    )


def test_orders_create_body_has_the_real_samples_shape(sb: ShopifySandbox) -> None:
    body = full_order(sb).webhook_body()
    real = with_documented(shape(sample("orders_create")))
    assert problems(shape(body), real) == []
    # What real webhooks do not carry, the sandbox does not send (GraphQL serves it: Customer.tags, ...).
    assert "tags" not in body["customer"] and "orders_count" not in body["customer"]
    assert "product_type" not in body["line_items"][0]
    # A B2B order names its company and location by id (the sample, not B2B, has no `company`); others have none.
    assert set(body["company"]) == {"id", "location_id"} and isinstance(body["company"]["location_id"], int)
    assert "company" not in sb.create_order(SHOP, line_items=[{"title": "Mug"}]).webhook_body()
    # ...and the body is not empty where it matters: the compared values are really there.
    assert body["payment_terms"]["payment_terms_name"] == "Net 30" and body["discount_codes"][0]["code"]
    assert body["line_items"][0]["properties"] == [{"name": "engraving", "value": "Hi"}]


def test_fulfillment_order_bodies_have_the_real_samples_shape(sb: ShopifySandbox) -> None:
    fo = full_order(sb).fulfillment_orders[0]
    hold = sb.add_foreign_hold(fo.gid, handle="fraud-check", app="other-app", reason="HIGH_RISK_OF_FRAUD")
    placed = placed_on_hold_body(fo, hold, "holdfast", {"other-app": sb.app("other-app").gid})
    assert problems(shape(placed), shape(sample("fulfillment_orders_placed_on_hold"))) == []
    assert placed["created_fulfillment_hold"]["held_by_app"] == {"id": sb.app("other-app").gid}
    assert placed["created_fulfillment_hold"]["held_by_requesting_app"] is False
    sb.release_holds(fo, {hold.gid}, sb.now())
    released = hold_released_body(fo)
    assert problems(shape(released), shape(sample("fulfillment_orders_hold_released"))) == []
    assert released == {"fulfillment_order": {"id": fo.gid, "status": "open"}}


def test_the_comparison_catches_inventions_and_wrong_types() -> None:
    real = shape(sample("orders_create"))
    assert problems(shape({"customer": {"tags": "staff"}}), real) == [".customer.tags: not in Shopify's sample"]
    assert problems(shape({"id": "820982911946154508"}), real) == [".id: ['string'], the sample has ['number']"]
    assert problems(shape({"line_items": [{"quantity": "1"}]}), real) == [
        ".line_items[].quantity: ['string'], the sample has ['number']"]
    assert problems(shape({"discount_codes": [{"code": "X"}]}), real)  # empty in the sample: must be declared
    assert problems(shape({"discount_codes": [{"code": "X"}]}), with_documented(real)) == []
    assert problems(shape({"payment_terms": None, "customer": None}), real) == []  # null fits anywhere


def test_documented_fields_are_only_those_the_samples_leave_empty() -> None:
    real = sample("orders_create")
    for path, (url, _example) in DOCUMENTED.items():
        assert url.startswith("https://shopify.dev/"), path
        node: Any = real
        for part in path.split("."):
            container = node if isinstance(node, dict) else node[0]
            node = container.get(part.removesuffix("[]"))  # absent (a B2B-only key): nothing to compare against
            if not node:
                break
        assert not node, f"{path} has a value in the sample: compare against it instead of declaring it"
    with pytest.raises(KeyError):
        documented("customer.tags", "staff")
