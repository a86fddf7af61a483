import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot.approvals.orders import OrderPayloadError, from_webhook

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "shopify" / "webhooks" / "orders_create.shopify-docs-2026-07.json"


def body(**over):
    base = {
        "id": 1001, "name": "#1001", "currency": "USD", "total_price": "24.00", "subtotal_price": "0.00",
        "total_line_items_price": "24.00", "total_discounts": "24.00", "tags": "staff, VIP",
        "discount_codes": [{"code": "INFLUENCER100", "amount": "24.00"}],
        "customer": {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "tags": "wholesale"},
        "line_items": [{"title": "Mug", "quantity": 2, "price": "12.00", "sku": "MUG-1", "vendor": "Acme"}],
        "note_attributes": [{"name": "order_type", "value": "sample"}],
        "shipping_address": {"country_code": "DE"},
    }
    base.update(over)
    return base


@pytest.mark.parametrize(
    ("over", "attr", "expected"),
    [
        ({}, "gid", "gid://shopify/Order/1001"),
        ({"admin_graphql_api_id": "gid://shopify/Order/9"}, "gid", "gid://shopify/Order/9"),
        ({}, "order_tags", ("staff", "VIP")),
        ({"tags": ""}, "order_tags", ()),
        ({}, "customer_tags", None),  # not in Shopify's webhooks, so not believed from a body (enrich reads them)
        ({}, "customer_name", "Ann Lee"),
        ({}, "discount_codes", ("INFLUENCER100",)),
        ({}, "discount_percent", Decimal("100.00")),
        ({"total_discounts": "6.00"}, "discount_percent", Decimal("25.00")),
        ({"total_line_items_price": None}, "discount_percent", Decimal("100.00")),
        ({"line_items": [], "total_line_items_price": None}, "discount_percent", None),
        ({}, "note_attributes", {"order_type": "sample"}),
        ({}, "shipping_country", "DE"),
        ({"customer": None}, "customer_name", None),
        ({"user_id": 77}, "staff_user_id", "77"),
    ],
)
def test_from_webhook_normalises(over, attr, expected):
    assert getattr(from_webhook(body(**over)), attr) == expected


@pytest.mark.parametrize("bad", [{}, [], {"id": 1, "total_price": "lots"}])
def test_from_webhook_rejects_unreadable_payloads(bad):
    with pytest.raises(OrderPayloadError):
        from_webhook(bad)


def test_shopify_sample_body_normalises():
    if not SAMPLE.exists():
        pytest.skip(f"Shopify sample webhook not found at {SAMPLE} (../shared is absent)")
    facts = from_webhook(json.loads(SAMPLE.read_text()))
    assert facts.gid == "gid://shopify/Order/820982911946154508"
    assert facts.total_price == Decimal("414.95") or facts.total_price > 0
    assert facts.line_items and all(li.quantity > 0 for li in facts.line_items)
    assert facts.snapshot()["name"] == facts.name
