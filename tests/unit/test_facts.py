"""Every fact of the policy language, from Shopify's real orders/create body plus the enrichment read.

The body is ../shared/shopify/webhooks/orders_create.*.json (what Shopify really sends); each case varies fields
Shopify does send, and gives the OrderEnrichment node (bot/shopify/documents.py) where the fact needs one.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from bot.approvals.conditions import FACTS, GRAPHQL_FACTS
from bot.approvals.orders import enrich, from_webhook
from bot.approvals.policies import facts_from, load_text
from tests.conftest import shared_file

SKUS = ("SKU2006-001", "LENS-PROTECT-2YR", "CASE-LEATHER-PREM", "SKU2006-020", "SKU2006-035")


def sample() -> dict[str, Any]:
    return json.loads(shared_file("shopify", "webhooks", "orders_create.shopify-docs-2026-07.json").read_text())


def vary(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of `body` with dotted paths ("customer.email", "line_items.0.vendor") set."""
    out = copy.deepcopy(body)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
    return out


def node(*, tags=("vip",), orders="3", entity="Customer", risk="LOW", recommendation="ACCEPT",
         products: dict[str, tuple[tuple[str, ...], str]] | None = None, customer: bool = True) -> dict[str, Any]:
    """An OrderEnrichment reply's `order` for the sample (products: sku -> (tags, productType))."""
    products = products or {}
    return {
        "id": "gid://shopify/Order/820982911946154508",
        "risk": {"recommendation": recommendation, "assessments": [{"riskLevel": risk}]},
        "customer": {"tags": list(tags), "numberOfOrders": orders} if customer else None,
        "purchasingEntity": {"__typename": entity},
        "lineItems": {"nodes": [{"sku": sku, "title": sku, "product": {"tags": list(products.get(sku, ((), ""))[0]),
                                                                       "productType": products.get(sku, ((), ""))[1]}}
                                for sku in SKUS]},
    }


NET_30 = {"payment_terms_name": "Net 30", "payment_terms_type": "NET", "due_in_days": 30}
# (fact, changes to the real body, enrichment node or None, expected value)
CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, Any]] = [
    ("total_price", {}, None, Decimal("404.95")),
    ("total_price", {"total_price": "6000.00"}, None, Decimal("6000.00")),
    ("subtotal_price", {}, None, Decimal("404.95")),
    ("total_discounts", {}, None, Decimal("20.00")),
    ("discount_percent", {}, None, Decimal("4.82")),
    ("discount_percent", {"total_discounts": "414.95"}, None, Decimal("100.00")),
    ("discount_code", {}, None, ()),
    ("discount_code", {"discount_codes": [{"code": "INFLUENCER100", "amount": "20.00", "type": "percentage"}]},
     None, ("INFLUENCER100",)),
    ("order_tag", {}, None, ("tag1", "tag2")),
    ("sku", {}, None, SKUS),
    ("vendor", {}, None, ()),
    ("vendor", {"line_items.0.vendor": "Acme"}, None, ("Acme",)),
    ("total_quantity", {}, None, Decimal(5)),
    ("max_line_quantity", {"line_items.3.quantity": 4}, None, Decimal(4)),
    ("shipping_method", {}, None, ("Generic Shipping",)),
    ("payment_gateway", {}, None, ("visa", "bogus")),
    ("source_name", {}, None, "web"),
    ("source_name", {"source_name": "shopify_draft_order"}, None, "shopify_draft_order"),
    ("shipping_country", {}, None, "US"),
    ("shipping_country", {"shipping_address.country_code": "DE"}, None, "DE"),
    ("shipping_province", {}, None, "KY"),
    ("financial_status", {}, None, "voided"),
    ("currency", {}, None, "USD"),
    ("customer_email", {}, None, "john@example.com"),
    ("customer_email", {"customer.email": None}, None, "jon@example.com"),  # redacted customer: the order's
    ("customer_email", {"customer.email": None, "email": None, "contact_email": None}, None, None),  # all redacted
    ("customer_email_domain", {"customer.email": "Sam@Holdfast.Example"}, None, "holdfast.example"),
    ("payment_terms", {}, None, None),  # the sample's order has none
    ("payment_terms", {"payment_terms": NET_30}, None, "Net 30"),
    ("note_attribute", {}, None, {}),
    ("note_attribute", {"note_attributes": [{"name": "order_type", "value": "sample"}]}, None,
     {"order_type": "sample"}),
    # Facts Shopify's webhook does not carry: unknown from the body alone, known with the enrichment read.
    ("customer_tag", {}, None, None),
    ("customer_tag", {}, node(tags=("staff", "vip")), ("staff", "vip")),
    ("customer_tag", {}, node(customer=False), ()),  # a guest checkout: no customer, no tags
    ("customer_orders_count", {}, None, None),
    ("customer_orders_count", {}, node(orders="7"), 7),
    ("first_order", {}, None, None),
    ("first_order", {}, node(orders="1"), True),
    ("first_order", {}, node(orders="2"), False),
    ("first_order", {}, node(customer=False), None),
    ("product_type", {}, None, None),
    ("product_type", {}, node(products={"SKU2006-001": ((), "Sunglasses"), "SKU2006-020": ((), "Furniture")}),
     ("Sunglasses", "Furniture")),
    ("product_tag", {}, None, None),
    ("product_tag", {}, node(products={"SKU2006-035": (("trial", "bulky"), "Furniture")}), ("trial", "bulky")),
    ("b2b", {}, None, None),
    ("b2b", {}, node(entity="PurchasingCompany"), True),
    ("b2b", {}, node(entity="Customer"), False),
    ("risk_level", {}, None, None),
    ("risk_level", {}, node(risk="HIGH"), "HIGH"),
    ("risk_recommendation", {}, node(recommendation="CANCEL"), "CANCEL"),
]


@pytest.mark.parametrize(("fact", "changes", "graphql", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_fact_from_the_real_webhook_and_enrichment(fact, changes, graphql, expected) -> None:
    facts = from_webhook(vary(sample(), changes))
    if graphql is not None:
        facts = enrich(facts, graphql)
    assert FACTS[fact][1](facts) == expected


def test_the_table_covers_every_fact_both_ways() -> None:
    assert {c[0] for c in CASES} == set(FACTS)
    from_body = {c[0] for c in CASES if c[2] is None and c[3] not in (None, (), {})}
    assert from_body == set(FACTS) - GRAPHQL_FACTS  # every other fact is really in the webhook
    assert {c[0] for c in CASES if c[2] is not None} == GRAPHQL_FACTS


def test_made_up_webhook_fields_are_not_believed() -> None:
    # A body carrying what Shopify no longer sends (tests used to) must not make those facts known.
    stuffed = vary(sample(), {"customer.tags": "staff", "customer.orders_count": 1, "company": {"id": 1},
                              "line_items.0.product_type": "Sunglasses"})
    facts = from_webhook(stuffed)
    assert {f for f in GRAPHQL_FACTS if FACTS[f][1](facts) is not None} == set()


def test_a_request_records_where_each_fact_came_from() -> None:
    policies = load_text("""policies:
  - {id: p, channel: C0APPROVALS, approvers: {users: [U0ANA]},
     when: {all: [{customer_tag: staff}, {total_price: {gte: 1}}, {payment_terms: {glob: "Net *"}}]}}
""")
    facts = enrich(from_webhook(sample()), node(tags=("staff",)))
    assert facts_from(policies, facts) == {"customer_tag": "graphql", "payment_terms": "missing",
                                           "total_price": "webhook"}
    assert facts_from(policies, from_webhook(sample()))["customer_tag"] == "missing"
