"""Per-request timers with a controlled clock: reminders, escalation, expiry, cancellation, restarts."""

import pytest

from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from tests.e2e.conftest import STAFF
from tests.e2e.timing import Clock, settle_due

ESCALATION = "C0ESCALATE"


def policies(on_expire="keep_hold", expire="5h"):
    return load_text(f"""
policies:
  - id: staff-orders
    name: Staff order
    channel: {CHANNEL}
    approvers: {{users: [U0ANA, U0BEN], required: 2}}
    when: {{customer_tag: staff}}
    timers:
      remind_after: 1h
      remind_every: 1h
      max_reminders: 2
      escalate_after: 3h
      escalate_to: {{channel: {ESCALATION}, users: [U0EVE]}}
      expire_after: {expire}
      on_expire: {on_expire}
""")


@pytest.fixture
def clock():
    return Clock()


async def start(database_url, clock, **kw):
    stack = await DevStack(database_url=database_url, policies=policies(**kw), now=clock).start()
    stack.slack.add_channel(ESCALATION, name="escalations")
    stack.slack.invite(ESCALATION)  # /invite @holdfast: a bot posts only where it is a member
    return stack


def thread(stack, req):
    return [m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]


async def kinds(stack, req):
    return [e.kind for e in await stack.audit_trail(req.id)]


async def flagged(stack):
    order = await stack.place_order(**STAFF)
    await settle_due(stack)
    return order, await stack.request_for(order)


async def test_reminders_repeat_to_non_voters_then_escalate_with_working_buttons_then_expire(database_url, clock):
    stack = await start(database_url, clock)
    try:
        order, req = await flagged(stack)
        clock.advance(minutes=59)
        await settle_due(stack)
        assert thread(stack, req) == []
        # One approver votes (2 are required): the reminder mentions only the other one.
        await stack.click(req, ActionId.APPROVE, "U0ANA")
        await settle_due(stack)
        clock.advance(minutes=2)
        await settle_due(stack)
        [first] = [t for t in thread(stack, req) if ":bell:" in t]
        assert "<@U0BEN>" in first and "<@U0ANA>" not in first and "reminder 1 of 2" in first
        clock.advance(hours=1)
        await settle_due(stack)
        clock.advance(hours=1)  # max_reminders: 2, so no third
        await settle_due(stack)
        assert len([t for t in thread(stack, req) if ":bell:" in t]) == 2
        assert (await kinds(stack, req)).count("request.reminded") == 2
        # Escalation at 3 h: a copy in the escalation channel and a DM, each with the working buttons.
        [copy] = stack.slack.messages[ESCALATION]
        assert "Escalated" in stack.slack.render(copy)
        dm = [m for ch, msgs in stack.slack.messages.items() if ch.startswith("D") for m in msgs]
        assert len(dm) == 1 and "request-approve" in str(dm[0].blocks)
        status, _ = await stack.sim.click(ESCALATION, copy.ts, ActionId.APPROVE, "U0BEN")
        assert status == 200
        await settle_due(stack)
        req = await stack.request_for(order)
        assert req.status == "approved" and req.decided_by == "U0BEN"
        # The copies are redrawn without buttons, and expiry later finds nothing to do.
        assert "request-approve" not in str(stack.slack.message(ESCALATION, copy.ts).blocks)
        clock.advance(hours=5)
        await settle_due(stack)
        assert (await stack.request_for(order)).status == "approved"
        assert "request.expired" not in await kinds(stack, req)
    finally:
        await stack.stop()


@pytest.mark.parametrize("on_expire, status, held", [("keep_hold", "expired", True), ("reject", "rejected", True),
                                                     ("approve", "approved", False)])
async def test_expiry_applies_the_policy_outcome(database_url, clock, on_expire, status, held):
    stack = await start(database_url, clock, on_expire=on_expire)
    try:
        order, req = await flagged(stack)
        clock.advance(hours=3, seconds=1)
        await settle_due(stack)
        clock.advance(hours=2)
        await settle_due(stack)
        req = await stack.request_for(order)
        assert req.status == status and req.decided_by == "holdfast"
        sb = stack.shopify.orders[order.gid]
        assert all((fo.status == "ON_HOLD") is held for fo in sb.fulfillment_orders)
        assert {"approved": "holdfast-approved", "rejected": "holdfast-rejected", "expired": "holdfast-expired"}[status] in sb.tags
        trail = await kinds(stack, req)
        assert trail.count("request.expired") == 1 and trail.count("request.escalated") == 1
        assert any(":alarm_clock:" in t for t in thread(stack, req))
        assert "request-approve" not in str(stack.slack.message(CHANNEL, req.message_ts).blocks)
    finally:
        await stack.stop()


async def test_a_decision_cancels_every_timer(database_url, clock):
    stack = await start(database_url, clock)
    try:
        order, req = await flagged(stack)
        await stack.click(req, ActionId.APPROVE, "U0ANA")
        await stack.click(req, ActionId.APPROVE, "U0BEN")
        await settle_due(stack)
        clock.advance(hours=6)
        await settle_due(stack)
        req = await stack.request_for(order)
        assert req.status == "approved"
        trail = await kinds(stack, req)
        assert not {"request.reminded", "request.escalated", "request.expired"} & set(trail)
        assert stack.slack.messages[ESCALATION] == [] and not any(":bell:" in t for t in thread(stack, req))
        assert [j.status for j in await stack.jobs() if j.kind == "timer.fire"] == ["done"] * 3  # the first reminder, escalation, expiry; no repeat
    finally:
        await stack.stop()


async def test_timers_survive_a_restart_and_fire_once(database_url, clock):
    stack = await start(database_url, clock)
    try:
        order, req = await flagged(stack)
        await stack.stop_bot()
        clock.advance(hours=3, minutes=30)  # the first reminders and the escalation came due while it was down
        await stack.start_bot()
        await settle_due(stack)
        clock.advance(hours=2)
        await stack.stop_bot()
        await stack.start_bot()
        await settle_due(stack)
        trail = await kinds(stack, await stack.request_for(order))
        assert trail.count("request.reminded") == 2 and trail.count("request.escalated") == 1
        assert trail.count("request.expired") == 1
        assert len(stack.slack.messages[ESCALATION]) == 1
        assert (await stack.request_for(order)).status == "expired"
    finally:
        await stack.stop()
