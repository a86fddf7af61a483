"""Rejecting tells the approver what it will do, and afterwards what Shopify did (issue #19, item 6)."""

import pytest

from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from storage import shops

POLICIES = """
policies:
  - id: fraud
    name: Risky order
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {total_price: {gte: 1000}}
    fields: {reject: []}
    on_reject: cancel
    cancel: {reason: FRAUD, restock: true, refund: true, notify_customer: false}
  - id: hold
    name: Staff order
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {customer_tag: staff}
    fields: {reject: []}
"""
BIG = {"line_items": [{"title": "Espresso machine", "sku": "ESP", "quantity": 1, "price": "1240.00"}],
       "customer": {"email": "b@x.example", "first_name": "Bea", "last_name": "Buyer", "tags": []},
       "shipping_address": {"address1": "Coolsingel 1", "city": "Rotterdam", "country": "Netherlands",
                            "country_code": "NL"}}
STAFF = {"line_items": [{"title": "Mug", "sku": "MUG", "quantity": 1, "price": "12.00"}],
         "customer": {"email": "s@x.example", "first_name": "Sam", "tags": ["staff"]}}


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES)) as s:
        yield s


async def flagged(stack, spec):
    order = await stack.place_order(**spec)
    await stack.settle()
    return order, await stack.request_for(order)


def thread(stack, req) -> list[str]:
    return [m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]


async def test_rejecting_under_a_cancel_policy_says_what_it_does_then_what_shopify_did(stack):
    order, req = await flagged(stack, BIG)
    message = stack.slack.message(CHANNEL, req.message_ts)
    assert message.text == "Approval needed: order #1001 (1,240.00 USD), policy Risky order"
    shown = stack.slack.render(message)
    assert "Ships to: NL" in shown and "demo-store.myshopify.com" not in shown  # one shop served: not named
    [confirm] = [e["confirm"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == ActionId.REJECT]
    assert confirm["title"]["text"] == "Reject order #1001?"
    assert confirm["text"]["text"] == ("Rejecting cancels order #1001, restocks its items and refunds 1,240.00 USD "
                                       "to the customer. The customer is not emailed.")

    await stack.click(req, ActionId.REJECT, "U0ANA")
    await stack.settle(timeout=30)
    req = await stack.request_for_id(req.id)
    assert (req.status, req.outcome_state) == ("rejected", "done")
    assert stack.shopify.orders[order.gid].financial_status == "REFUNDED"
    message = stack.slack.message(CHANNEL, req.message_ts)
    assert message.text == "Rejected by <@U0ANA>: order #1001 (1,240.00 USD), policy Risky order"
    shown = stack.slack.render(message)
    assert "applied in Shopify: order cancelled, items restocked, refund to the original payment" in shown
    assert "[Reject]" not in shown
    assert "Shopify: order #1001 cancelled, items restocked, payment refunded." in thread(stack, req)


async def test_rejecting_under_a_keep_hold_policy_says_the_hold_stays(stack):
    order, req = await flagged(stack, STAFF)
    [confirm] = [e["confirm"] for b in stack.slack.message(CHANNEL, req.message_ts).blocks if b["type"] == "actions"
                 for e in b["elements"] if e["action_id"] == ActionId.REJECT]
    assert confirm["text"]["text"].startswith("Rejecting keeps the hold on order #1001")
    await stack.click(req, ActionId.REJECT, "U0ANA")
    await stack.settle()
    req = await stack.request_for_id(req.id)
    message = stack.slack.message(CHANNEL, req.message_ts)
    assert message.text.startswith("Rejected by <@U0ANA>: order #1001")
    assert "hold kept in Shopify: order #1001 is not fulfilled until someone releases it there" in \
        stack.slack.render(message)
    assert all(fo.holds for fo in stack.shopify.orders[order.gid].fulfillment_orders)
    assert any(t.startswith("Shopify: order #1001 tagged holdfast-rejected; the hold stays") for t in thread(stack, req))
    assert "Ships to: no shipping address" in stack.slack.render(message)


async def test_the_shop_is_named_once_holdfast_serves_two(stack):
    async with stack.rt.sessions() as session:  # a second store, as its install would add it
        await shops.ensure_shop(session, domain="second-store.myshopify.com", grant_type=shops.CLIENT_CREDENTIALS,
                                now=stack.rt.now())
        await session.commit()
    _, req = await flagged(stack, STAFF)
    assert "Shop: demo-store.myshopify.com" in stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
