"""A job that never returns is cancelled after its kind's timeout and retried with backoff: its key is not
blocked for good (the worker used to await an executor without bound while renewing its lease)."""

from __future__ import annotations

from bot.cli.devstack import DevStack
from tests.e2e.conftest import STAFF


async def test_a_shopify_call_that_never_answers_is_cut_off_and_the_job_retried(database_url):
    # The client would wait 30 s for Shopify; the job's bound is half a second.
    async with DevStack(database_url=database_url, shopify_timeout_s=30, job_timeout_s=0.5) as stack:
        stack.shopify.faults.add("timeout", root_field="fulfillmentOrderHold", times=1, delay=6)  # no answer
        order = await stack.place_order(**STAFF)
        await stack.settle(timeout=30)
        holds = [j for j in await stack.jobs() if j.kind == "shopify.hold"]
        assert [j.status for j in holds] == ["done"] and holds[0].attempts == 2, holds
        fos = stack.shopify.orders[order.gid].fulfillment_orders
        assert all(stack.shopify.hold_calls(fo.gid) == 1 for fo in fos)  # the cut-off try placed nothing twice
        assert (await stack.request_for(order)).hold_state == "placed"
