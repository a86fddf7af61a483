"""holdfast.example.yml against the faithful sandbox: each example policy flags the order it was written for,
through webhooks shaped like Shopify's (no customer tags, no orders count) and the enrichment read."""

from __future__ import annotations

import asyncio

import pytest

from bot.cli.devstack import CHANNEL, SHOP
from sandbox.devserver import APP

MUG = {"title": "Mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}


def customer(email: str, *, tags=(), orders: int = 5, **more) -> dict:
    return {"email": email, "first_name": "Pat", "last_name": "Buyer", "tags": list(tags), "orders_count": orders,
            **more}


# (expected policy, order keywords for the sandbox, a reason the request must give)
ORDERS = [
    ("staff-orders", dict(line_items=[MUG], customer=customer("sam@staff.example", tags=["staff"])),
     "customer tag `staff`"),
    ("influencer-samples", dict(line_items=[{**MUG, "price": "149.00"}], customer=customer("ivy@creators.example"),
                                discount_codes=[{"code": "INFLUENCER100", "amount": "149.00", "type": "percentage"}],
                                total_discounts="149.00"), "discount percent 100%"),
    ("high-value", dict(line_items=[{**MUG, "quantity": 8, "price": "1550.00"}], customer=customer("b@cafe.example")),
     "total price 12,400 USD"),
    ("b2b-net-terms", dict(line_items=[{**MUG, "quantity": 2, "price": "1200.00"}], customer=customer("b@co.example"),
                           company="Cafe Chain Ltd", payment_terms="Net 30", financial_status="pending"),
     "payment terms `Net 30`"),
    ("high-risk", dict(line_items=[MUG], customer=customer("r@x.example"), risk_level="HIGH"), "risk level `HIGH`"),
    ("first-order-high-value", dict(line_items=[{**MUG, "price": "800.00"}], customer=customer("new@x.example",
                                                                                                 orders=1)),
     "first order"),
    ("free-trial-abuse", dict(line_items=[{**MUG, "sku": "TRIAL-30", "price": "0.00"}],
                              customer=customer("a@mailinator.com")), "customer email domain `mailinator.com`"),
    ("international-high-value", dict(line_items=[{**MUG, "price": "1500.00"}], customer=customer("d@x.example"),
                                      shipping_address={"country_code": "DE", "country": "Germany"}),
     "not shipping country `US`"),
    (None, dict(line_items=[MUG], customer=customer("joe@example.com")), None),
    # Net 30 terms bought by a person, not a company: not B2B (the company comes from GraphQL purchasingEntity).
    (None, dict(line_items=[{**MUG, "quantity": 2, "price": "1200.00"}], customer=customer("p@x.example"),
                payment_terms="Net 30", financial_status="pending"), None),
]


US = {"country_code": "US", "country": "United States", "province_code": "OR", "city": "Portland"}


async def test_every_example_policy_flags_its_order_in_the_sandbox(stack):
    placed = [(policy, await stack.place_order(**{"shipping_address": US, **spec}), reason)
              for policy, spec, reason in ORDERS]
    await stack.settle()
    for policy, order, reason in placed:
        req = await stack.request_for(order)
        assert (req.policy_id if req else None) == policy, (order.name, policy, req and req.reasons)
        if reason:
            assert any(reason in r for r in req.reasons), req.reasons
    assert {p for p, _, _ in ORDERS} - {None} == {p.id for p in stack.rt.policies.policies if p.internal is None}
    # The webhooks were Shopify-shaped: the customer's tags reached holdfast through GraphQL only.
    staff = stack.shopify.webhook_deliveries[0].body
    assert "tags" not in staff["customer"] and "orders_count" not in staff["customer"]
    req = await stack.request_for(placed[0][1])
    assert req.order_snapshot["facts_from"]["customer_tag"] == "graphql"
    assert req.order_snapshot["facts_from"]["order_tag"] == "webhook"
    [created] = [e for e in await stack.audit_trail(req.id) if e.kind == "request.created"]
    assert created.data["facts_from"] == req.order_snapshot["facts_from"]


async def test_redacted_names_and_emails_do_not_break_flagging(stack):
    # An admin-created custom app's level-2 access "varies by plan": name and email may come back null.
    stack.shopify.grant_customer_data(APP, fields=("phone", "address"))
    order = await stack.place_order(line_items=[MUG], customer=customer("sam@holdfast.example", tags=["staff"]))
    await stack.settle()
    body = stack.shopify.webhook_deliveries[-1].body
    assert body["customer"]["email"] is None and body["email"] is None and body["customer"]["first_name"] is None
    req = await stack.request_for(order)
    assert req.policy_id == "staff-orders" and req.reasons == ["customer tag `staff`"] and req.hold_state == "placed"
    assert req.order_snapshot["facts_from"]["customer_email_domain"] == "missing"  # redacted, not guessed
    text = stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    assert "unknown customer" in text and order.name in text


@pytest.mark.parametrize("down_for", [0.3])
async def test_a_webhook_the_bot_missed_arrives_with_shopifys_retry(stack, down_for):
    stack.shopify.deliveries.retry_scale = 2e-4  # Shopify's 4 hours in about 3 seconds
    port = stack.bot_port
    await stack.stop_bot()
    order = await stack.place_order(deliver=False, line_items=[MUG], customer=customer("s@x.example", tags=["staff"]))
    with pytest.raises(ConnectionError):
        await stack.shopify.deliver_webhook(SHOP, "orders/create", order.webhook_body())
    await asyncio.sleep(down_for)
    await stack.start_bot(port=port)
    await stack.shopify.deliveries.settle()
    delivery = stack.shopify.webhook_deliveries[-1]
    assert delivery.state == "delivered" and delivery.attempts[0].status is None and delivery.attempts[-1].ok
    await stack.settle()
    assert (await stack.request_for(order)).policy_id == "staff-orders"
