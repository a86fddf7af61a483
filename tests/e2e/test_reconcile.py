"""Reconciliation against the sandbox, and periodic jobs run once per period across instances."""

import asyncio

from bot.app import build_runtime
from bot.policy_file import load_file
from bot.cli.devstack import CHANNEL, ROOT, SHOP, DevStack
from sandbox.devserver import APP
from bot.jobs import scheduler
from bot.features.reconcile.service import reconcile_shop
from storage import periodic
from tests.e2e.conftest import STAFF
from tests.e2e.timing import Clock


async def test_missed_webhook_creates_exactly_one_request_and_a_late_duplicate_none(stack):
    order = await stack.place_order(deliver=False, **STAFF)
    report = await reconcile_shop(stack.rt, SHOP)
    await stack.settle()
    req = await stack.request_for(order)
    assert report.created == [order.name] and req.status == "pending" and req.hold_state == "placed"
    created = [e for e in await stack.audit_trail(req.id) if e.kind == "request.created"]
    assert created[0].data["source"] == "reconcile"
    assert await stack.shopify.deliver_webhook(SHOP, "orders/create", order.webhook_body()) == 200
    await stack.settle()
    again = await reconcile_shop(stack.rt, SHOP)
    await stack.settle()
    assert again.created == [] and len(stack.slack.messages[CHANNEL]) == 1
    assert [e.kind for e in await stack.audit_trail(req.id)].count("request.created") == 1
    assert all(stack.shopify.hold_calls(fo.gid) == 1 for fo in stack.shopify.orders[order.gid].fulfillment_orders)


async def test_hold_released_by_someone_else_is_detected_and_audited(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    fo = stack.shopify.orders[order.gid].fulfillment_orders[0]
    released = fo.holds[0].gid
    stack.shopify.release_holds(fo, {released}, stack.shopify.now())
    report = await reconcile_shop(stack.rt, SHOP)
    await stack.settle()
    req = await stack.request_for(order)
    assert report.refreshed == [order.name] and req.status == "pending" and released not in req.hold_ids
    [event] = [e for e in await stack.audit_trail(req.id) if e.kind == "hold.released_outside"]
    assert event.actor == "shopify" and event.data["hold_ids"] == [released]
    assert event.data["changed_outside_holdfast"] == "hold released"
    assert any("released holdfast's hold" in m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts)
    assert (await reconcile_shop(stack.rt, SHOP)).refreshed == []  # seen once, reported once


async def test_cancelled_order_closes_its_request(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    stack.shopify.cancel_order(stack.shopify.orders[order.gid], "CUSTOMER", False, stack.shopify.now())
    report = await reconcile_shop(stack.rt, SHOP)
    await stack.settle()
    req = await stack.request_for(order)
    assert report.closed == [order.name] and req.status == "closed"
    [event] = [e for e in await stack.audit_trail(req.id) if e.kind == "request.closed"]
    assert event.data["changed_outside_holdfast"] == "order cancelled"
    message = stack.slack.message(CHANNEL, req.message_ts)
    assert "request-approve" not in str(message.blocks) and "Closed" in stack.slack.render(message)


async def test_approved_request_whose_release_did_not_land_is_requeued(database_url):
    async with DevStack(database_url=database_url, reconcile_grace_s=0) as stack:
        order = await stack.place_order(**STAFF)
        await stack.settle()
        req = await stack.request_for(order)
        await stack.click(req, "request-approve", "U0ANA")
        await stack.settle()
        fo = stack.shopify.orders[order.gid].fulfillment_orders[0]
        ours = APP  # holdfast's own app in the sandbox
        stack.shopify.add_foreign_hold(fo.gid, handle="holdfast-approval", app=ours)  # as if it never left
        report = await reconcile_shop(stack.rt, SHOP)
        await stack.settle()
        assert report.requeued == [order.name]
        assert all(not [h for h in f.holds if h.handle == "holdfast-approval"]
                   for f in stack.shopify.orders[order.gid].fulfillment_orders)


async def test_pagination_over_more_orders_than_one_page(database_url):
    async with DevStack(database_url=database_url, reconcile_page_size=3) as stack:
        placed = [await stack.place_order(deliver=False, **STAFF) for _ in range(8)]
        report = await reconcile_shop(stack.rt, SHOP)
        await stack.settle()
        # Our own hold and tag jobs touch orders mid-pass, so an order may be read again on a later page.
        assert report.pages >= 3 and report.orders_seen >= 8
        assert sorted(report.created) == sorted(o.name for o in placed)
        assert all([await stack.request_for(o) for o in placed])


async def test_two_scheduler_instances_run_each_periodic_job_once_per_period(database_url):
    clock = Clock()
    async with DevStack(database_url=database_url, now=clock) as stack:
        other = build_runtime(stack.settings(), now=clock, policies=stack.policies)  # a second process, same database
        try:
            specs = scheduler.periodic_jobs(stack.rt.settings)
            for _ in range(2):
                results = await asyncio.gather(*(scheduler.run_period(rt, spec, owner=name) for spec in specs
                                                 for rt, name in ((stack.rt, "a"), (other, "b"))))
                assert sum(results) == len(specs)  # of each pair, exactly one ran
                again = await asyncio.gather(*(scheduler.run_period(other, spec) for spec in specs))
                assert not any(again)  # the same period never runs twice
                await stack.settle()  # this period's passes run (a pass still waiting would not be joined by another)
                clock.advance(days=1)
            async with stack.rt.sessions() as session:
                for spec in specs:
                    assert len(await periodic.runs(session, name=spec.name)) == 2
            reconciles = [j for j in await stack.jobs() if j.kind == "shopify.reconcile"]
            assert len(reconciles) == 2
        finally:
            await other.engine.dispose()


async def test_webhook_check_recreates_missing_subscriptions_once(database_url):
    async with DevStack(database_url=database_url, public_url="https://holdfast.example.com") as stack:
        await scheduler.run_period(stack.rt, next(s for s in scheduler.periodic_jobs(stack.rt.settings)
                                                  if s.name == "webhook-check"))
        await stack.settle()
        subs = sorted(s.topic for s in stack.shopify.webhook_subscriptions.values())
        assert subs == ["APP_UNINSTALLED", "FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE",
                        "FULFILLMENT_ORDERS_SCHEDULED_FULFILLMENT_ORDER_READY", "ORDERS_CREATE", "ORDERS_UPDATED"]
        stack.shopify.webhook_subscriptions.pop(next(k for k, s in stack.shopify.webhook_subscriptions.items()
                                                     if s.topic == "ORDERS_UPDATED"))
        from storage.models import Job

        async with stack.rt.sessions() as session:
            session.add(Job(kind="shopify.webhook_check", key="x", payload={"shop": SHOP}, run_at=stack.rt.now(),
                            created_at=stack.rt.now(), updated_at=stack.rt.now()))
            await session.commit()
        stack.rt.wake_worker()
        await stack.settle()
        assert sorted(s.topic for s in stack.shopify.webhook_subscriptions.values()) == subs
        kinds = [e.kind for e in await stack.audit_trail()]
        assert kinds.count("webhook.subscribed") == len(subs) + 1  # each once, and the one that went missing


async def test_daily_digest_is_sent_to_managers(database_url):
    text = (ROOT / "holdfast.example.yml").read_text() + "\nroles:\n  managers: {users: [U0BEN]}\n"
    path = ROOT / "tests" / ".digest-policies.yml"
    path.write_text(text)
    try:
        policies = load_file(path)
    finally:
        path.unlink()
    async with DevStack(database_url=database_url, policies=policies) as stack:
        await stack.place_order(**STAFF)
        await stack.settle()
        spec = next(s for s in scheduler.periodic_jobs(stack.rt.settings) if s.name == "digest")
        assert await scheduler.run_period(stack.rt, spec)
        await stack.settle()
        dms = [m for ch, msgs in stack.slack.messages.items() if ch.startswith("D") for m in msgs]
        assert len(dms) == 1 and "Pending:* 1" in str(dms[0].blocks)


async def test_a_pass_still_waiting_is_not_joined_by_another(database_url):
    clock = Clock()
    async with DevStack(database_url=database_url, now=clock, run_worker=False) as stack:  # nothing runs them
        spec = next(s for s in scheduler.periodic_jobs(stack.rt.settings) if s.name == "reconcile")
        for _ in range(3):
            assert await scheduler.run_period(stack.rt, spec)
            clock.advance(seconds=spec.every.total_seconds())
        assert len([j for j in await stack.jobs() if j.kind == "shopify.reconcile"]) == 1
