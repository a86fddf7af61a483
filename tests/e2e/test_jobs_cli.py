"""`holdfast jobs` shows a dead job with its error; `holdfast jobs retry ID` runs it again."""

import os

from bot.cli.devstack import DevStack
from tests.e2e.conftest import STAFF
from tests.e2e.test_processes import run


async def test_jobs_lists_dead_jobs_and_retry_requeues_them(database_url):
    async with DevStack(database_url=database_url, hold_wait_s=1.0) as stack:
        await _dead_hold_listed_then_retried(stack, database_url)


async def _dead_hold_listed_then_retried(stack, database_url):
    # Fulfillment orders that never appear: the hold waits its bound (a second here), then goes dead.
    order = await stack.place_order(fulfillment_orders_visible_after=10_000, **STAFF)
    await stack.settle(timeout=30, horizon_s=30)
    [dead] = await stack.jobs(status="dead")
    env = {**os.environ, "DATABASE_URL": database_url}
    code, out = await run(env, "jobs")
    assert code == 0 and "dead jobs: 1" in out and "shopify.hold" in out and "no fulfillment orders" in out
    assert "periodic jobs:" in out and "reconcile" in out
    # The fulfillment orders finally exist: retrying the dead hold now places it.
    stack.shopify.orders[order.gid].fo_visible_after = 0
    code, out = await run(env, "jobs", "retry", str(dead.id))
    assert code == 0, out
    stack.rt.wake_worker()
    await stack.settle(timeout=30)
    assert (await stack.request_for(order)).hold_state == "placed"
    assert all(fo.status == "ON_HOLD" for fo in stack.shopify.orders[order.gid].fulfillment_orders)
    code, out = await run(env, "jobs", "retry", "999999")
    assert code != 0 and "999999" in out
