"""Nothing lost, nothing doubled: Shopify 5xx / THROTTLED / timeouts and Slack 429 / lost replies mid-flow."""

import pytest

from bot.approvals.effects import JobKind
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from tests.e2e.conftest import STAFF


def held_once(stack, order):
    for fo in stack.shopify.orders[order.gid].fulfillment_orders:
        assert stack.shopify.hold_calls(fo.gid) == 1, fo.gid
        assert [h.handle for h in fo.holds] == ["holdfast-approval"]
        assert fo.status == "ON_HOLD"


@pytest.mark.parametrize("kind", ["5xx", "throttled", "timeout"])
async def test_shopify_failures_while_holding_still_hold_each_fulfillment_order_once(stack, kind):
    stack.shopify.faults.add(kind=kind, root_field="fulfillmentOrderHold", times=2, delay=2.5)
    order = await stack.place_order(**STAFF)
    await stack.settle(timeout=30)
    held_once(stack, order)
    req = await stack.request_for(order)
    assert req.hold_state == "placed" and len(req.hold_ids) == 2
    assert await stack.jobs(status="dead") == []
    failed = [c for c in stack.shopify.calls if "fulfillmentOrderHold" in c["root_fields"] and c["status"] != 200
              or c.get("throttled")]
    assert failed, "the fault was injected"


async def test_a_tagging_failure_retries_the_hold_job_which_still_holds_once(stack):
    stack.shopify.faults.add(kind="5xx", root_field="tagsAdd", times=2)  # the hold job tags first
    order = await stack.place_order(**STAFF)
    await stack.settle(timeout=30)
    held_once(stack, order)
    assert stack.shopify.orders[order.gid].tags.count("holdfast-pending") == 1
    assert (await stack.request_for(order)).hold_state == "placed"


async def test_a_release_landing_while_the_decisions_redraw_waits_adds_no_second_redraw(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    before = {j.id for j in await stack.jobs()}
    stack.slack.faults.add("429", method="chat.update", times=1, retry_after=3)  # the decision's redraw waits
    # The release lands a little later, once that redraw is surely waiting (not mid-call, where a second redraw
    # is right): its first answer stalls and fails after Shopify released the hold, and the retry finds it done.
    stack.shopify.faults.add(kind="timeout", root_field="fulfillmentOrderReleaseHold", times=1, delay=0.5,
                             after_execute=True)
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle(timeout=30)
    redraws = [j for j in await stack.jobs() if j.id not in before and j.kind == JobKind.UPDATE_REQUEST]
    assert len(redraws) == 1  # the release found it waiting: it draws the released state too
    text = stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    assert "Approved" in text and "applied in Shopify" in text
    assert (await stack.request_for(order)).hold_state == "released"
    # The thread still hears of both, after the message.
    thread = [m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]
    assert any("<@U0ANA> approved" in t for t in thread) and any("hold released" in t for t in thread)


async def test_shopify_failures_while_releasing_release_once(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    stack.shopify.faults.add(kind="5xx", root_field="fulfillmentOrderReleaseHold", times=1)
    stack.shopify.faults.add(kind="throttled", root_field="fulfillmentOrderReleaseHold", times=1)
    stack.shopify.faults.add(kind="5xx", root_field="tagsAdd", times=3)
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle(timeout=30)
    for fo in stack.shopify.orders[order.gid].fulfillment_orders:
        assert stack.shopify.release_calls(fo.gid) == 1 and fo.holds == [] and fo.status == "OPEN"
    assert "holdfast-approved" in stack.shopify.orders[order.gid].tags
    assert (await stack.request_for(order)).hold_state == "released"


async def test_slack_429_delays_the_message_but_posts_it_once(stack):
    stack.slack.faults.add("429", method="chat.postMessage", times=2, retry_after=1)
    order = await stack.place_order(**STAFF)
    await stack.settle(timeout=30)
    assert len(stack.slack.messages[CHANNEL]) == 1
    assert sum(1 for c in stack.slack.calls if c["method"] == "chat.postMessage" and c["status"] == 429) == 2
    assert (await stack.request_for(order)).message_ts == stack.slack.messages[CHANNEL][0].ts
    # The hold landed while the post waited: the post drew it, and no redraw was queued for it.
    assert "on hold" in stack.slack.render(stack.slack.messages[CHANNEL][0])
    assert [j.kind for j in await stack.jobs() if j.kind == JobKind.UPDATE_REQUEST] == []


async def test_slack_reply_lost_after_posting_does_not_post_twice(stack):
    stack.slack.faults.add("lost_reply", method="chat.postMessage", times=1)
    order = await stack.place_order(**STAFF)
    await stack.settle(timeout=30)
    assert len(stack.slack.messages[CHANNEL]) == 1  # found again through its metadata, not reposted
    req = await stack.request_for(order)
    assert req.message_ts == stack.slack.messages[CHANNEL][0].ts


async def test_slack_429_on_update_still_shows_the_decision(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    stack.slack.faults.add("429", method="chat.update", times=1, retry_after=1)
    await stack.decide(req, ActionId.REJECT, "U0ANA", reason="Not in this quarter's budget")
    await stack.settle(timeout=30)
    assert "Rejected" in stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))


async def test_late_fulfillment_orders_are_held_once_they_appear(stack):
    order = await stack.place_order(fulfillment_orders_visible_after=2, **STAFF)
    await stack.settle(timeout=40, horizon_s=20)  # no webhook here: the hold's own next looks find them
    held_once(stack, order)
    assert (await stack.request_for(order)).hold_state == "placed"


async def test_fulfillment_orders_that_never_appear_are_reported_in_slack_and_the_audit_log(database_url):
    async with DevStack(database_url=database_url, hold_wait_s=1.0) as stack:
        await _never_appear(stack)


async def _never_appear(stack):
    # The hold waits (HOLDFAST_HOLD_WAIT_S, a second here) without spending tries, then fails visibly.
    order = await stack.place_order(fulfillment_orders_visible_after=10_000, **STAFF)
    await stack.settle(timeout=30, horizon_s=30)
    req = await stack.request_for(order)
    assert req.hold_state == "failed" and "no fulfillment orders" in req.hold_error
    [dead] = await stack.jobs(status="dead")
    assert dead.kind == "shopify.hold" and dead.attempts == 1, "waiting spent no attempts"
    assert "hold NOT placed" in stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    thread = [m for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]
    assert thread and "could NOT put order" in thread[0].text
    assert "job.dead" in [e.kind for e in await stack.audit_trail(req.id)]


@pytest.mark.parametrize("kind", ["429", "5xx"])
async def test_a_click_is_not_dropped_when_slack_fails_the_bots_auth_test(stack, kind):
    # bolt learns the bot's identity with auth.test on the first request it handles; a 429 or 5xx there
    # must not turn the approver's click into a 200 that did nothing.
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    stack.slack.faults.add(kind, method="auth.test", times=5, retry_after=1)
    status, _ = await stack.click(req, ActionId.APPROVE, "U0ANA")
    assert status == 200
    assert (await stack.request_for(order)).status == "approved"
    assert any(c["method"] == "auth.test" and not c["ok"] for c in stack.slack.calls), "the fault was injected"
