"""Sandbox Shopify failing ~20% of calls (5xx, timeouts, THROTTLED; some 5xx/timeouts after the mutation ran)
and sandbox Slack answering 429/5xx to ~20%: the final state is right, nothing is doubled, nothing is lost,
and a job that ran out of attempts is visible (jobs table, /metrics, audit log, and on the message for a hold).
"""

from __future__ import annotations

import asyncio

import aiohttp

from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from tests.e2e.conftest import STAFF
from tests.reliability.conftest import HEAVY
from tests.reliability.procs import message_status

ORDERS = 60 if HEAVY else 12


async def metrics(stack: DevStack) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.bot_url}/metrics") as resp:
        return await resp.text()


async def wait_for(check, timeout: float = 90.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def decide_retrying(stack: DevStack, req, action: str, tries: int = 10) -> None:
    """Decide like a person: if Slack failed the modal (views.open/update got a 429 or 5xx) or the click got an
    error, click again."""
    for _ in range(tries):
        try:
            status, _ = await stack.decide(req, action, "U0ANA", reason="over budget")
        except (TimeoutError, AssertionError):  # the modal never filled in / the click was refused
            status = 0
        if status == 200:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"could not decide request {req.id} in {tries} tries")


async def test_twenty_percent_faults_everywhere_final_state_right_nothing_doubled(database_url):
    async with DevStack(database_url=database_url, job_max_attempts=12, hold_max_attempts=12) as stack:
        stack.shopify.faults.random(0.2, ("5xx", "timeout", "throttled"), delay=2.2, seed=7)
        stack.slack.faults.random(0.2, ("429", "5xx"), seed=8)
        orders = [await stack.place_order(**STAFF) for _ in range(ORDERS)]

        async def all_posted():
            reqs = [await stack.request_for(o) for o in orders]
            return all(r is not None and r.message_ts for r in reqs)

        await wait_for(all_posted)
        decided: dict[int, str] = {}
        for i, order in enumerate(orders):
            req = await stack.request_for(order)
            action = ActionId.APPROVE if i % 2 == 0 else ActionId.REJECT
            await decide_retrying(stack, req, action)
            decided[req.id] = "approved" if i % 2 == 0 else "rejected"
        await stack.settle(timeout=120)
        assert stack.shopify.faults.random_mode.fired > 5 and stack.slack.faults.random_mode.fired > 5

        dead = await stack.jobs(status="dead")
        for order in orders:
            req = await stack.request_for(order)
            sb = stack.shopify.orders[order.gid]
            holds = [stack.shopify.hold_calls(fo.gid) for fo in sb.fulfillment_orders]
            releases = [stack.shopify.release_calls(fo.gid) for fo in sb.fulfillment_orders]
            assert req.status == decided[req.id], order.name
            # Nothing doubled: at most one hold and one release per fulfillment order, one message per request.
            assert all(n <= 1 for n in holds + releases), (order.name, holds, releases)
            posted = [m for m in stack.slack.messages[CHANNEL]
                      if not m.thread_ts and (m.metadata or {}).get("event_payload", {}).get("request_id") == req.id]
            assert len(posted) == 1, order.name
            assert message_status(stack.slack.render(posted[0])) == req.status, order.name
            mine = [j for j in dead if j.payload.get("request_id") == req.id]
            if mine:  # ran out of attempts: must be visible, never silently lost
                continue
            # Nothing lost: the decision's effects all landed.
            if req.status == "approved":
                assert releases == holds and all(fo.status == "OPEN" and not fo.holds for fo in sb.fulfillment_orders)
                assert "holdfast-approved" in sb.tags and "holdfast-pending" not in sb.tags
            else:
                assert holds == [1] * len(holds) and releases == [0] * len(releases)
                assert all(fo.status == "ON_HOLD" for fo in sb.fulfillment_orders)
                assert "holdfast-rejected" in sb.tags
        if dead:
            text = await metrics(stack)
            assert f'holdfast_jobs{{status="dead"}} {len(dead)}' in text
            audited = {e.data.get("job_id") for e in await stack.audit_trail() if e.kind == "job.dead"}
            assert {j.id for j in dead} <= audited


async def test_jobs_that_run_out_of_attempts_are_visible(database_url):
    async with DevStack(database_url=database_url, job_max_attempts=3, hold_max_attempts=3) as stack:
        stack.shopify.faults.add("5xx", root_field="fulfillmentOrderHold", times=1000)  # holds never go through
        order = await stack.place_order(**STAFF)
        await stack.settle(timeout=60)
        dead = await stack.jobs(status="dead")
        assert {j.kind for j in dead} >= {"shopify.hold"}
        assert all(j.attempts == 3 and j.last_error for j in dead)
        req = await stack.request_for(order)
        assert req.hold_state == "failed"
        text = await metrics(stack)
        assert f'holdfast_jobs{{status="dead"}} {len(dead)}' in text
        assert "job.dead" in [e.kind for e in await stack.audit_trail(req.id)]
        assert "hold NOT placed" in stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
        # Nothing was half-done twice: no hold landed, so none can be doubled.
        assert all(stack.shopify.hold_calls(fo.gid) == 0 for fo in stack.shopify.orders[order.gid].fulfillment_orders)
