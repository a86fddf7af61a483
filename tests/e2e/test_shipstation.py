"""ShipStation (issue #20): a flagged order's shipment is held until it is decided, then routed, over HTTP against
the ShipStation stand-in; every change lands once (counted in the stand-in's change records)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.approvals.effects import JobKind
from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, SHOP, DevStack
from bot.features.shipstation import reconcile
from bot.jobs import scheduler
from tests.e2e.conftest import STAFF

POLICIES = """
version: 1
policies:
  - id: staff-orders
    name: Staff order
    channel: C0APPROVALS
    approvers: {users: [U0ANA, U0BEN]}
    when: {customer_tag: staff}
    shipstation:
      on_flag: {hold: true, tags: [awaiting-approval]}
      on_approve: {tags: [approved-sample], warehouse: "Samples room"}
      on_reject: {keep_hold: true, tags: [rejected]}
"""
QUICK = {"shipstation_find_every_s": 0.2, "shipstation_find_for_s": 120.0}


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES), **QUICK) as s:
        yield s


def text_of(stack, req) -> str:
    return stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))


async def flagged(stack, *, imported: bool = True):
    """A staff order; ShipStation imports it only later (or not at all): the request is looking for it."""
    stack.shipstation.set_import_delay(None)
    order = await stack.place_order(**STAFF)
    await stack.settle(horizon_s=0.1)  # the flag job looks again in 0.2 s: the wait is on the message now
    req = await stack.request_for(order)
    if imported:
        stack.shipstation.set_import_delay(0)
    return order, req


async def held(stack):
    order, req = await flagged(stack)
    await stack.settle()
    shipment = stack.shipstation.shipment_for_order(SHOP, order.name)
    assert shipment is not None and shipment.status == "on_hold"
    return order, await stack.request_for_id(req.id), shipment


async def kinds(stack, req) -> list[str]:
    return [e.kind for e in await stack.audit_trail(req.id)]


async def test_a_flagged_order_is_held_once_shipstation_imports_it_and_routed_once_approved(stack):
    order, req = await flagged(stack, imported=False)
    assert f"ShipStation: looking for {order.name} until" in text_of(stack, req), "the wait is visible"

    stack.shipstation.set_import_delay(0)  # ShipStation's import lands
    await stack.settle()
    shipment = stack.shipstation.shipment_for_order(SHOP, order.name)
    assert shipment.status == "on_hold" and "awaiting-approval" in shipment.tags
    assert shipment.hold_until >= datetime.now(UTC).date() + timedelta(days=29)
    req = await stack.request_for_id(req.id)
    assert f"ShipStation: on hold until {shipment.hold_until.isoformat()}, tagged awaiting-approval" in text_of(stack, req)
    [held_row] = [e for e in await stack.audit_trail(req.id) if e.kind == "shipstation.held"]
    assert held_row.data["status"] == "on_hold" and held_row.data["shipment_id"] == shipment.shipment_id

    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle()
    samples = stack.shipstation.accounts[SHOP].warehouse_named("Samples room")
    assert shipment.status == "pending" and shipment.hold_until is None
    assert "approved-sample" in shipment.tags and "awaiting-approval" not in shipment.tags
    assert shipment.warehouse_id == samples.warehouse_id
    req = await stack.request_for_id(req.id)
    assert "ShipStation: restored, tagged approved-sample, ships from Samples room" in text_of(stack, req)
    [routed] = [e for e in await stack.audit_trail(req.id) if e.kind == "shipstation.routed"]
    assert routed.data["status"] == "pending" and routed.data["warehouse_id"] == samples.warehouse_id
    assert routed.data["tags"] == ["approved-sample"]
    sid = shipment.shipment_id
    assert stack.shipstation.count("hold", shipment_id=sid) == 1
    assert stack.shipstation.count("restore", shipment_id=sid) == 1
    assert stack.shipstation.count("warehouse", shipment_id=sid) == 1


async def test_a_rejected_order_stays_on_hold_with_the_rejected_tag(stack):
    _order, req, shipment = await held(stack)
    await stack.decide(req, ActionId.REJECT, "U0ANA", reason="Not a sample")
    await stack.settle()
    assert shipment.status == "on_hold" and shipment.tags == ["rejected"]
    assert stack.shipstation.count("restore", shipment_id=shipment.shipment_id) == 0
    req = await stack.request_for_id(req.id)
    assert f"ShipStation: kept on hold until {shipment.hold_until.isoformat()}, tagged rejected" in text_of(stack, req)
    assert "shipstation.kept" in await kinds(stack, req)


async def test_a_label_bought_before_the_hold_is_reported_not_retried(stack):
    order, req = await flagged(stack)
    shipment = stack.shipstation.shipment_for_order(SHOP, order.name)
    stack.shipstation.buy_label(shipment.shipment_id)  # the warehouse was quicker than ShipStation's hold
    await stack.settle()
    assert shipment.status == "label_purchased" and stack.shipstation.count("hold") == 0
    req = await stack.request_for_id(req.id)
    assert "ShipStation: could not hold it: its label is already purchased" in text_of(stack, req)
    [failed] = [e for e in await stack.audit_trail(req.id) if e.kind == "shipstation.failed"]
    assert failed.data["state"] == "hold_failed" and failed.data["status"] == "label_purchased"
    assert await stack.jobs(status="dead") == []


async def test_an_order_shipstation_never_imports_is_reported_after_the_bound(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES), shipstation_find_every_s=0.2,
                        shipstation_find_for_s=1.0) as stack:
        order, req = await flagged(stack, imported=False)
        await stack.settle()
        req = await stack.request_for_id(req.id)
        assert f"ShipStation: {order.name} not found after" in text_of(stack, req)
        assert "hold it in ShipStation by hand" in text_of(stack, req)
        assert "shipstation.not_found" in await kinds(stack, req)
        [job] = [j for j in await stack.jobs() if j.kind == JobKind.SHIPSTATION_FLAG]
        assert job.status == "done" and job.attempts == 1, "looking again spent no attempts"


async def test_a_duplicate_webhook_and_a_double_click_hold_and_restore_once(stack):
    stack.shipstation.set_import_delay(0)
    created = stack.shopify.create_order(SHOP, **STAFF)
    for _ in range(2):
        assert await stack.shopify.deliver_webhook(SHOP, "orders/create", created.webhook_body(),
                                                   webhook_id="same-delivery") == 200
    assert await stack.shopify.deliver_webhook(SHOP, "orders/create", created.webhook_body()) == 200  # resent anew
    await stack.settle()
    req = await stack.request_for(created)
    shipment = stack.shipstation.shipment_for_order(SHOP, created.name)
    assert shipment.status == "on_hold"
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle()
    sid = shipment.shipment_id
    assert stack.shipstation.count("hold", shipment_id=sid) == 1
    assert stack.shipstation.count("restore", shipment_id=sid) == 1
    assert stack.shipstation.count("tag_add", shipment_id=sid) == 2  # awaiting-approval, then approved-sample


async def test_a_429_storm_still_lands_each_change_once_without_spending_attempts(stack):
    stack.shipstation.set_import_delay(0)
    stack.shipstation.faults.add("throttled", times=8)
    order = await stack.place_order(**STAFF)
    await stack.settle(timeout=60)
    req = await stack.request_for(order)
    shipment = stack.shipstation.shipment_for_order(SHOP, order.name)
    assert shipment.status == "on_hold"
    stack.shipstation.faults.add("throttled", times=8)
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle(timeout=60)
    assert shipment.status == "pending" and "approved-sample" in shipment.tags
    sid = shipment.shipment_id
    assert stack.shipstation.count("hold", shipment_id=sid) == 1
    assert stack.shipstation.count("restore", shipment_id=sid) == 1
    throttled = [c for c in stack.shipstation.calls if c.get("status") == 429]
    assert len(throttled) >= 16, "the storm hit"
    ran = [j for j in await stack.jobs() if j.kind in (JobKind.SHIPSTATION_FLAG, JobKind.SHIPSTATION_DECIDE)]
    assert [(j.status, j.attempts) for j in ran] == [("done", 1), ("done", 1)], "a 429 is a wait, not a try"


async def test_a_restart_while_it_looks_loses_nothing(stack):
    order, req = await flagged(stack, imported=False)
    await stack.stop_bot()
    stack.shipstation.set_import_delay(0)
    await stack.start_bot()
    await stack.settle()
    shipment = stack.shipstation.shipment_for_order(SHOP, order.name)
    assert shipment.status == "on_hold"
    req = await stack.request_for_id(req.id)
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.stop_bot()
    await stack.start_bot()
    await stack.settle()
    assert shipment.status == "pending" and "approved-sample" in shipment.tags
    assert stack.shipstation.count("hold", shipment_id=shipment.shipment_id) == 1
    assert stack.shipstation.count("restore", shipment_id=shipment.shipment_id) == 1


async def test_reconciliation_holds_again_a_shipment_restored_by_hand_while_undecided(stack):
    _order, req, shipment = await held(stack)
    # Someone restores it in ShipStation's UI while the request is still undecided.
    shipment.status, shipment.hold_until = "pending", None
    spec = next(s for s in scheduler.periodic_jobs(stack.rt.settings) if s.name == "shipstation-reconcile")
    assert await scheduler.run_period(stack.rt, spec)
    await stack.settle()
    assert shipment.status == "on_hold" and shipment.hold_until is not None
    [requeued] = [e for e in await stack.audit_trail(req.id) if e.kind == "shipstation.requeued"]
    assert requeued.data["job"] == JobKind.SHIPSTATION_FLAG.value and "not on hold" in requeued.data["why"]
    assert stack.shipstation.count("hold", shipment_id=shipment.shipment_id) == 2
    # A second pass finds it as holdfast left it: nothing more.
    holds = stack.shipstation.count("hold")
    await reconcile.run_now(stack.rt, shop=SHOP)
    await stack.settle()
    assert stack.shipstation.count("hold") == holds


async def test_a_refused_key_is_dead_at_once_and_says_the_fix(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES), shipstation_api_keys=f"{SHOP}=wrong",
                        **QUICK) as stack:
        stack.shipstation.set_import_delay(0)
        order = await stack.place_order(**STAFF)
        await stack.settle()
        req = await stack.request_for(order)
        [dead] = [e for e in await stack.audit_trail(req.id) if e.kind == "job.dead"]
        assert dead.data["kind"] == JobKind.SHIPSTATION_FLAG.value and dead.data["attempts"] == 1
        assert "SHIPSTATION_API_KEYS" in dead.data["error"]
        assert "ShipStation: gave up" in text_of(stack, await stack.request_for_id(req.id))
        assert stack.shipstation.count("hold") == 0


async def test_a_shop_without_a_key_is_left_alone(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES), shipstation_api_keys="",
                        **QUICK) as stack:
        stack.shipstation.set_import_delay(0)
        order = await stack.place_order(**STAFF)
        await stack.settle()
        req = await stack.request_for(order)
        assert stack.shipstation.calls == [], "connector off: not one call"
        [job] = [j for j in await stack.jobs() if j.kind == JobKind.SHIPSTATION_FLAG]
        assert job.status == "done"
        assert "ShipStation" not in text_of(stack, req)


async def test_a_decision_that_could_not_land_is_applied_by_the_next_reconciliation(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES), job_max_attempts=2,
                        **QUICK) as stack:
        _order, req, shipment = await held(stack)
        stack.shipstation.faults.add("5xx", times=50, status=503)  # ShipStation is down while it is approved
        await stack.click(req, ActionId.APPROVE, "U0ANA")
        await stack.settle()
        [dead] = [j for j in await stack.jobs(status="dead") if j.kind == JobKind.SHIPSTATION_DECIDE]
        assert dead.attempts == 2 and shipment.status == "on_hold"
        assert "the decision is not applied yet" in text_of(stack, await stack.request_for_id(req.id))

        stack.shipstation.faults.clear()  # back up: the pass sees it still on hold though approved
        await reconcile.run_now(stack.rt, shop=SHOP)
        await stack.settle()
        assert shipment.status == "pending" and "approved-sample" in shipment.tags
        [requeued] = [e for e in await stack.audit_trail(req.id) if e.kind == "shipstation.requeued"]
        assert requeued.data["job"] == JobKind.SHIPSTATION_DECIDE.value and "restore" in requeued.data["why"]
        assert "ShipStation: restored, tagged approved-sample, ships from Samples room" in text_of(
            stack, await stack.request_for_id(req.id))
        assert stack.shipstation.count("restore", shipment_id=shipment.shipment_id) == 1


async def test_reconciliation_extends_a_hold_about_to_end_while_undecided(stack):
    _order, req, shipment = await held(stack)
    soon = datetime.now(UTC).date() + timedelta(days=2)
    shipment.hold_until = soon  # e.g. set by hand in ShipStation: it would ship in two days, undecided
    await reconcile.run_now(stack.rt, shop=SHOP)
    await stack.settle()
    assert shipment.status == "on_hold" and shipment.hold_until > soon + timedelta(days=20)
    [requeued] = [e for e in await stack.audit_trail(req.id) if e.kind == "shipstation.requeued"]
    assert "extend" in requeued.data["why"]
    req = await stack.request_for_id(req.id)
    assert f"ShipStation: on hold until {shipment.hold_until.isoformat()}" in text_of(stack, req)


async def test_an_order_approved_before_shipstation_imports_it_is_never_held(stack):
    order, req = await flagged(stack, imported=False)
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle(horizon_s=0.1)
    stack.shipstation.set_import_delay(0)
    await stack.settle()
    shipment = stack.shipstation.shipment_for_order(SHOP, order.name)
    assert stack.shipstation.count("hold") == 0 and shipment.status == "pending"
    assert shipment.tags == ["approved-sample"]
    assert shipment.warehouse_id == stack.shipstation.accounts[SHOP].warehouse_named("Samples room").warehouse_id
    assert "shipstation.held" not in await kinds(stack, req)
