"""Every policy in holdfast.example.yml flags the order it was written for, and only that one."""

from pathlib import Path

import pytest

from bot.approvals.orders import enrich, from_webhook
from bot.approvals.policies import match
from bot.policy_file import load_file

EXAMPLES = load_file(Path(__file__).resolve().parents[2] / "holdfast.example.yml")


def order(**over):
    """A webhook body with what Shopify's carries (no customer tags or orders count: see tests/unit/test_facts.py)."""
    base = {"id": 1, "name": "#1", "currency": "USD", "total_price": "40.00", "total_line_items_price": "40.00",
            "total_discounts": "0.00", "tags": "", "email": "joe@example.com",
            "customer": {"email": "joe@example.com"},
            "line_items": [{"title": "Mug", "quantity": 1, "price": "40.00", "sku": "MUG-1"}],
            "shipping_address": {"country_code": "US"}}
    base.update(over)
    return base


def graphql(tags=(), orders="4", entity="Customer", **over):
    """The OrderEnrichment node the server reads for the order (an ordinary returning customer unless told)."""
    return {"risk": {"recommendation": "ACCEPT", "assessments": [{"riskLevel": "LOW"}]},
            "customer": {"tags": list(tags), "numberOfOrders": orders}, "purchasingEntity": {"__typename": entity},
            "lineItems": {"nodes": [{"sku": "MUG-1", "title": "Mug", "product": {"tags": [], "productType": ""}}]},
            **over}


CASES = [
    ("staff-orders", order(customer={"email": "sam@x.example"}), graphql(tags=["staff"], orders="9"),
     "customer tag `staff`"),
    ("staff-orders", order(tags="staff"), None, "order tag `staff`"),
    ("staff-orders", order(customer={"email": "sam@holdfast.example"}), None,
     "customer email domain `holdfast.example`"),
    ("influencer-samples", order(total_discounts="40.00", total_price="0.00"), None, "discount percent 100%"),
    ("influencer-samples", order(discount_codes=[{"code": "influencer-ivy"}]), None, "discount code `influencer-ivy`"),
    ("influencer-samples", order(note_attributes=[{"name": "order_type", "value": "Sample"}]), None,
     "note attribute order_type `Sample`"),
    ("high-value", order(total_price="12400.00"), None, "total price 12,400 USD ≥ 5,000 USD"),
    ("b2b-net-terms", order(total_price="2400.00", payment_terms={"payment_terms_name": "Net 30"}),
     graphql(entity="PurchasingCompany"), "payment terms `Net 30`"),
    ("high-risk", order(), graphql(risk={"recommendation": "CANCEL", "assessments": [{"riskLevel": "HIGH"}]}),
     "risk level `HIGH`"),
    ("first-order-high-value", order(total_price="800.00", customer={"email": "new@x.example"}),
     graphql(orders="1"), "first order"),
    # On Net 30 terms but bought by a person, not a company: not B2B.
    (None, order(total_price="2400.00", payment_terms={"payment_terms_name": "Net 30"}), None, None),
    ("free-trial-abuse", order(email="a@mailinator.com", customer={"email": "a@mailinator.com"},
                               line_items=[{"title": "Trial", "quantity": 1, "price": "0", "sku": "TRIAL-30"}],
                               total_price="0.00"), None, "customer email domain `mailinator.com`"),
    ("international-high-value", order(total_price="1500.00", shipping_address={"country_code": "DE"}), None,
     "not shipping country `US`"),
    (None, order(), None, None),
    # High value in another currency is not "≥ 5,000 USD": the currency must match.
    (None, order(total_price="9000.00", currency="EUR", shipping_address={"country_code": "US"}), None, None),
]


@pytest.mark.parametrize(("policy_id", "body", "node", "reason"), CASES)
def test_example_policy(policy_id, body, node, reason):
    # As the server does: the example policies read facts webhooks lack, so each order gets its enrichment read.
    facts = enrich(from_webhook(body), node or graphql())
    hit = match(EXAMPLES, facts)
    assert (hit.policy.id if hit else None) == policy_id
    if reason:
        assert any(reason in r for r in hit.reasons), hit.reasons


def test_every_example_is_exercised():
    # Internal-order policies (no `when:`) are chosen by /order-request, never matched: see test_internal_example.
    matched = {p.id for p in EXAMPLES.policies if p.internal is None}
    assert {c[0] for c in CASES} - {None} == matched
    assert {p.id for p in EXAMPLES.policies} - matched == {"internal-orders"}
    assert EXAMPLES.needs_graphql  # risk, customer tags, first order and B2B come through GraphQL
    assert EXAMPLES.graphql_facts == {"customer_tag", "first_order", "b2b", "risk_level", "risk_recommendation"}


def test_currency_mismatch_is_reported_as_missing():
    from bot.approvals.conditions import evaluate, parse

    outcome = evaluate(parse({"total_price": {"gte": 10, "currency": "USD"}}), from_webhook(order(currency="EUR")))
    assert not outcome.matched and outcome.missing == ("total_price in USD (order is in EUR)",)


def test_internal_example():
    policy = EXAMPLES.get("internal-orders")
    assert policy.when is None and policy.internal.pricing == "free"
    assert [f.id for f in policy.internal.fields if f.required] == ["department", "cost_centre", "reason"]
    assert "HQ" in policy.internal.addresses
