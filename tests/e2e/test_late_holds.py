"""Holds that are ours, and holds whose fulfillment orders come late: routed minutes later, or SCHEDULED."""

from datetime import UTC, datetime, timedelta

from bot.approvals.effects import JobKind
from bot.approvals.machine import HOLD_HANDLE
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, SHOP
from tests.e2e.conftest import STAFF


async def deliver(stack, order):
    assert await stack.shopify.deliver_webhook(SHOP, "orders/create", order.webhook_body()) == 200


async def test_a_hold_another_app_placed_under_our_handle_is_not_ours(stack):
    # A staging install of holdfast on the same shop holds the same fulfillment order under the same handle:
    # handles are unique per app, and only heldByRequestingApp says whose hold it is.
    order = await stack.place_order(deliver=False, **STAFF)
    fo0, fo1 = stack.shopify.orders[order.gid].fulfillment_orders
    staging = stack.shopify.add_foreign_hold(fo0.gid, handle=HOLD_HANDLE, app="holdfast-staging")
    await deliver(stack, order)
    await stack.settle()

    req = await stack.request_for(order)
    assert req.hold_state == "placed"
    ours = [h for fo in (fo0, fo1) for h in fo.holds if h.app != "holdfast-staging"]
    assert len(ours) == 2 and sorted(req.hold_ids) == sorted(h.gid for h in ours), "holdfast placed its own holds"
    assert staging.gid not in req.hold_ids

    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle()
    assert [h.gid for h in fo0.holds] == [staging.gid] and fo0.status == "ON_HOLD", "the other app's hold stays"
    assert fo1.holds == [] and fo1.status == "OPEN"
    assert (await stack.request_for(order)).hold_state == "released"


async def test_fulfillment_orders_routed_minutes_later_are_held_when_shopify_says_so(stack):
    order = await stack.place_order(fulfillment_orders_routed=False, **STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    assert req.hold_state == "waiting", "no fulfillment orders yet: the hold waits, it does not die"
    assert await stack.jobs(status="dead") == []
    [hold_job] = [j for j in await stack.jobs(status="pending") if j.kind == JobKind.HOLD]
    assert hold_job.attempts == 0, "waiting spends no attempts"
    text = stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    assert "not held yet" in text and "fulfillment orders" in text
    assert "hold.waiting" in [e.kind for e in await stack.audit_trail(req.id)]

    # Shopify finishes routing: fulfillment_orders/order_routing_complete wakes the hold at once (not at its
    # next look).
    assert await stack.shopify.route(stack.shopify.orders[order.gid]) == [200, 200]
    await stack.settle(horizon_s=1)
    req = await stack.request_for(order)
    assert req.hold_state == "placed" and len(req.hold_ids) == 2
    for fo in stack.shopify.orders[order.gid].fulfillment_orders:
        assert fo.status == "ON_HOLD" and [h.handle for h in fo.holds] == [HOLD_HANDLE]
    text = stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    assert "on hold" in text and "not held yet" not in text


async def test_a_scheduled_fulfillment_order_is_held_as_soon_as_it_opens(stack):
    due = datetime.now(UTC) + timedelta(days=2)
    order = await stack.place_order(fulfillment_order_status="SCHEDULED", fulfill_at=due, **STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    assert req.hold_state == "waiting" and f"{due:%Y-%m-%d}" in (req.hold_error or "")
    [hold_job] = [j for j in await stack.jobs(status="pending") if j.kind == JobKind.HOLD]
    look = hold_job.run_at.replace(tzinfo=UTC)
    assert datetime.now(UTC) + timedelta(hours=5) < look <= datetime.now(UTC) + timedelta(hours=6, minutes=1), \
        "two days away: it looks again within six hours (and the webhook wakes it sooner)"

    await stack.shopify.open_scheduled(stack.shopify.orders[order.gid])  # scheduled_fulfillment_order_ready
    await stack.settle(horizon_s=1)
    req = await stack.request_for(order)
    assert req.hold_state == "placed"
    assert all(fo.status == "ON_HOLD" for fo in stack.shopify.orders[order.gid].fulfillment_orders)


async def test_a_decision_while_the_hold_waits_lets_the_order_go(stack):
    order = await stack.place_order(fulfillment_orders_routed=False, **STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    assert req.hold_state == "waiting"
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle(horizon_s=1)  # the decision woke the waiting hold job, which steps aside
    assert [j for j in await stack.jobs(status="pending") if j.kind == JobKind.HOLD] == []
    await stack.shopify.route(stack.shopify.orders[order.gid])
    await stack.settle(horizon_s=1)
    assert all(fo.holds == [] for fo in stack.shopify.orders[order.gid].fulfillment_orders), "approved: never held"
    assert (await stack.request_for(order)).status == "approved"
