"""The walking skeleton end to end: signed webhooks and clicks over HTTP against the sandbox."""

import asyncio
import json

from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, SHOP
from tests.e2e.conftest import ORDINARY, STAFF


def buttons(message):
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


async def test_flagged_order_is_tagged_held_on_every_fulfillment_order_and_posted(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    assert req.status == "pending" and req.policy_id == "staff-orders" and req.hold_state == "placed"
    assert req.reasons == ["customer tag `staff`"] and req.policy_hash == stack.rt.policies.file_hash
    sb = stack.shopify.orders[order.gid]
    assert len(sb.fulfillment_orders) == 2
    for fo in sb.fulfillment_orders:
        assert fo.status == "ON_HOLD"
        [hold] = fo.holds
        assert hold.handle == "holdfast-approval" and hold.reason == "OTHER" and "Staff order" in hold.reason_notes
    assert sorted(req.hold_ids) == sorted(fo.holds[0].gid for fo in sb.fulfillment_orders)
    assert "holdfast-pending" in sb.tags
    [message] = stack.slack.messages[CHANNEL]
    assert message.ts == req.message_ts
    assert buttons(message) == [ActionId.APPROVE, ActionId.REJECT]
    text = stack.slack.render(message)
    assert order.name in text and "Sam Staff" in text and "Staff order" in text and "on hold" in text
    trail = await stack.audit_trail(req.id)
    kinds = [e.kind for e in trail]
    assert kinds[0] == "request.created" and {"hold.placed", "message.posted"} <= set(kinds)
    [held] = [e for e in trail if e.kind == "hold.placed"]
    assert held.data["tags_added"] == ["holdfast-pending"]  # tagged by the same job, before the hold


async def test_approve_releases_only_our_holds_swaps_tags_and_updates_the_message(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    fo0 = stack.shopify.orders[order.gid].fulfillment_orders[0]
    stack.shopify.add_foreign_hold(fo0.gid, handle="fraud-app", app="fraud-app")
    req = await stack.request_for(order)
    status, _ = await stack.click(req, ActionId.APPROVE, "U0ANA")
    assert status == 200
    await stack.settle()
    req = await stack.request_for(order)
    assert (req.status, req.decided_by, req.hold_state) == ("approved", "U0ANA", "released")
    sb = stack.shopify.orders[order.gid]
    assert [h.handle for h in fo0.holds] == ["fraud-app"] and fo0.status == "ON_HOLD"  # another app's hold stays
    assert sb.fulfillment_orders[1].holds == [] and sb.fulfillment_orders[1].status == "OPEN"
    assert "holdfast-approved" in sb.tags and "holdfast-pending" not in sb.tags
    message = stack.slack.message(CHANNEL, req.message_ts)
    assert buttons(message) == []
    assert "Approved" in stack.slack.render(message) and "<@U0ANA>" in json.dumps(message.blocks)
    assert "request.approved" in [e.kind for e in await stack.audit_trail(req.id)]


async def test_reject_keeps_the_hold_and_tags_rejected(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    await stack.decide(req, ActionId.REJECT, "U0BEN", reason="Not in this quarter's budget")
    await stack.settle()
    req = await stack.request_for(order)
    assert req.status == "rejected" and req.hold_state == "placed"
    sb = stack.shopify.orders[order.gid]
    assert all(fo.status == "ON_HOLD" for fo in sb.fulfillment_orders)
    assert "holdfast-rejected" in sb.tags and "holdfast-pending" not in sb.tags
    assert all(stack.shopify.release_calls(fo.gid) == 0 for fo in sb.fulfillment_orders)
    text = stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    assert "Rejected" in text and "Reason: Not in this quarter's budget" in text
    # The reason is written to the order, too.
    assert "rejected by Slack user U0BEN (reason: Not in this quarter's budget)" in sb.note


async def test_unflagged_order_gets_nothing(stack):
    order = await stack.place_order(**ORDINARY)
    await stack.settle()
    assert await stack.request_for(order) is None
    assert stack.slack.messages.get(CHANNEL, []) == []
    assert stack.shopify.orders[order.gid].tags == []
    # Only the one read of facts webhooks lack (the example's high-risk policy asks for risk): no writes.
    assert [c["operation"] for c in stack.shopify.calls] == ["OrderEnrichment"]


async def test_duplicate_webhook_is_answered_200_and_changes_nothing(stack):
    order = await stack.place_order(**STAFF)
    body = order.webhook_body()
    status = await stack.shopify.deliver_webhook(SHOP, "orders/create", body, webhook_id="fixed-id")
    again = await stack.shopify.deliver_webhook(SHOP, "orders/create", body, webhook_id="fixed-id")
    assert (status, again) == (200, 200)
    await stack.settle()
    assert len(stack.slack.messages[CHANNEL]) == 1
    for fo in stack.shopify.orders[order.gid].fulfillment_orders:
        assert stack.shopify.hold_calls(fo.gid) == 1


async def test_unauthorised_click_is_refused_ephemerally_and_audited(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    status, _ = await stack.click(req, ActionId.APPROVE, "U0EVE")
    assert status == 200
    await stack.settle()
    assert (await stack.request_for(order)).status == "pending"
    [eph] = [e for e in stack.slack.ephemerals if e["user"] == "U0EVE"]
    assert "not an approver" in eph["text"]
    refused = [e for e in await stack.audit_trail(req.id) if e.kind == "vote.refused"]
    assert refused and refused[0].actor == "U0EVE"
    assert all(stack.shopify.release_calls(fo.gid) == 0 for fo in stack.shopify.orders[order.gid].fulfillment_orders)


async def test_two_approvers_at_once_give_exactly_one_decision(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    results = await asyncio.gather(stack.click(req, ActionId.APPROVE, "U0ANA"),
                                   stack.click(req, ActionId.APPROVE, "U0BEN"))
    assert [s for s, _ in results] == [200, 200]
    await stack.settle()
    req = await stack.request_for(order)
    assert req.status in ("approved", "rejected") and req.version == 1
    decided = [e for e in await stack.audit_trail(req.id) if e.kind in ("request.approved", "request.rejected")]
    late = [e for e in await stack.audit_trail(req.id) if e.kind == "vote.too_late"]
    assert len(decided) == 1 and len(late) == 1
    assert all(f"already {req.status} by <@{req.decided_by}>" in e["text"] for e in stack.slack.ephemerals)
    releases = sum(stack.shopify.release_calls(fo.gid) for fo in stack.shopify.orders[order.gid].fulfillment_orders)
    assert releases == (2 if req.status == "approved" else 0)


async def test_double_click_decides_once(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    await asyncio.gather(stack.click(req, ActionId.APPROVE, "U0ANA"), stack.click(req, ActionId.APPROVE, "U0ANA"))
    await stack.settle()
    req = await stack.request_for(order)
    assert req.status == "approved" and req.version == 1
    [eph] = stack.slack.ephemerals
    assert "already approved by <@U0ANA>" in eph["text"]
    for fo in stack.shopify.orders[order.gid].fulfillment_orders:
        assert stack.shopify.release_calls(fo.gid) == 1


async def test_a_burst_with_duplicates_stores_each_delivery_once(stack):
    orders = [stack.shopify.create_order(SHOP, **STAFF) for _ in range(15)]
    sends = [stack.shopify.deliver_webhook(SHOP, "orders/create", o.webhook_body(), webhook_id=f"burst-{i}")
             for i, o in enumerate(orders) for _ in range(3)]  # every delivery three times, all at once
    assert set(await asyncio.gather(*sends)) == {200}
    await stack.settle(timeout=60)
    assert len(await stack.jobs()) >= 15
    process = [j for j in await stack.jobs() if j.kind == "order.process"]
    assert sorted(j.payload["webhook_id"] for j in process) == sorted(f"burst-{i}" for i in range(15))
    assert len(stack.slack.messages[CHANNEL]) == 15
