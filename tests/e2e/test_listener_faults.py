"""No listener ever answers Slack with a 5xx: each one is driven while every Slack Web API call it makes fails in
each way Slack fails (an error reply, a 429, a 5xx, a timeout), and each time Slack gets its ack (HTTP 200) and
nothing is half-written: the request's state is what it was, or what the click asked for."""

from __future__ import annotations

import pytest

from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from storage.models import AuditEvent, Decision
from tests.e2e.test_decisions import BIG, POLICIES, QUICK

FAULTS = [("error", {}), ("429", {}), ("5xx", {"status": 503}), ("timeout", {"delay": 3.0})]


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES)) as s:
        s.slack.add_user("U0CAT", name="cat", real_name="Cat Controller")
        s.slack.add_usergroup("S0FINANCE", ["U0BEN", "U0CAT"])
        yield s


async def count(stack: DevStack, model) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    async with stack.rt.sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def surfaces(stack: DevStack):
    """(name, a coroutine factory driving one listener) for each Slack surface holdfast listens on."""
    big = await stack.place_order(**BIG)
    quick = await stack.place_order(**QUICK)
    await stack.settle()
    form, plain = await stack.request_for(big), await stack.request_for(quick)
    return [
        ("/approvals help", lambda: stack.sim.slash("/approvals", "help", "U0BEN", CHANNEL)),
        ("/approvals queue", lambda: stack.sim.slash("/approvals", "", "U0ANA", CHANNEL)),
        ("/order-request", lambda: stack.sim.slash("/order-request", "", "U0ANA", CHANNEL)),
        ("App Home", lambda: stack.sim.open_home("U0ANA")),
        ("approve with a form (views.open)", lambda: stack.click(form, ActionId.APPROVE, "U0ANA")),
        ("approve by a stranger", lambda: stack.click(plain, ActionId.APPROVE, "U0EVE")),
        ("approve", lambda: stack.click(plain, ActionId.APPROVE, "U0ANA")),
    ]


@pytest.mark.parametrize("kind, options", FAULTS, ids=[k for k, _ in FAULTS])
async def test_every_listener_acks_while_slack_fails(stack, kind, options):
    driven = await surfaces(stack)
    for name, drive in driven:
        stack.slack.faults.add(kind, None, times=3, **options)  # the next calls to any method fail this way
        decisions, events = await count(stack, Decision), await count(stack, AuditEvent)
        status, body = await drive()
        assert status == 200, f"{name} under {kind}: HTTP {status} {body[:200]}"
        stack.slack.faults.clear()
        await stack.settle()
        # Nothing half-written: a click either recorded its vote with its audit row, or neither.
        new_decisions, new_events = await count(stack, Decision) - decisions, await count(stack, AuditEvent) - events
        assert new_decisions <= new_events, (name, kind, new_decisions, new_events)
    assert await stack.jobs(status="running") == []
