"""One bad approver reference breaks nothing else: a Slack user group that cannot be resolved (deleted, mistyped, a
plan without user groups) counts as nobody for its own policy, whose requests say so, while /approvals, App Home,
clicks and the other policies keep working."""

from __future__ import annotations

import asyncio

import pytest

from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from tests.e2e.conftest import ORDINARY, STAFF

POLICIES = load_text(f"""
roles:
  managers: {{users: [U0BEN]}}
policies:
  - id: staff-orders
    name: Staff order
    channel: {CHANNEL}
    approvers: {{users: [U0ANA], groups: [S0GONE]}}
    when: {{customer_tag: staff}}
  - id: big-orders
    name: Big order
    channel: {CHANNEL}
    approvers: {{users: [U0BEN]}}
    when: {{total_price: {{gte: 10}}}}
""")


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url, policies=POLICIES) as s:  # S0GONE: no such group in Slack
        yield s


async def until(check, what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_an_unresolvable_group_affects_only_its_policy_and_says_so(stack):
    staff, ordinary = await stack.place_order(**STAFF), await stack.place_order(**ORDINARY)
    await stack.settle()
    req, other = await stack.request_for(staff), await stack.request_for(ordinary)
    assert req.message_ts and other.message_ts and req.policy_id == "staff-orders"
    thread = [m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]
    assert any("approvers could not be resolved: group S0GONE (no_such_subteam)" in t for t in thread), thread
    assert not [m for m in stack.slack.messages[CHANNEL] if m.thread_ts == other.message_ts]
    trail = await stack.audit_trail(req.id)
    assert [e.data["unresolved"] for e in trail if e.kind == "request.approvers_unresolved"] == [
        ["group S0GONE (no_such_subteam)"]]

    # /approvals (help and the queue) and App Home work for everyone.
    for text in ("help", ""):
        status, body = await stack.sim.slash("/approvals", text, "U0BEN", CHANNEL)
        assert status == 200, body
    status, _ = await stack.sim.open_home("U0ANA")
    assert status == 200
    await until(lambda: "U0ANA" in stack.slack.home_views, "App Home of U0ANA")

    # A click on the group's policy: a stranger is refused (the group counts as nobody), no 5xx; the approver
    # named by id decides; the other policy is untouched.
    status, _ = await stack.click(req, ActionId.APPROVE, "U0EVE")
    assert status == 200
    status, _ = await stack.click(req, ActionId.APPROVE, "U0ANA")
    assert status == 200
    status, _ = await stack.click(other, ActionId.APPROVE, "U0BEN")
    assert status == 200
    await stack.settle()
    assert (await stack.request_for(staff)).status == "approved"
    assert (await stack.request_for(ordinary)).status == "approved"
    assert await stack.jobs(status="dead") == []
