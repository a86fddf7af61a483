"""App Home: drawn on app_home_opened, validated by the sandbox's Block Kit checks, refreshed after votes."""

import pytest

from bot.blocks.ids import ActionId, BlockId
from bot.approvals.effects import JobKind
from tests.e2e.approvals_helpers import BIG, approvals_stack, flagged, until


@pytest.fixture
async def stack(database_url):
    async with approvals_stack(database_url) as s:
        yield s


def render(stack, user):
    return stack.slack.render(stack.slack.home_views[user])


async def open_home(stack, user):
    publishes = len(stack.slack.calls_to("views.publish"))
    status, body = await stack.sim.open_home(user)
    assert status == 200
    await until(lambda: len(stack.slack.calls_to("views.publish")) > publishes, what="views.publish")
    call = stack.slack.calls_to("views.publish")[-1]
    assert call["ok"], call  # the sandbox refuses views that break Block Kit limits
    return stack.slack.home_views[user]


async def test_approver_home_lists_waiting_requests_with_working_buttons_and_recent_votes(stack):
    first, second = sorted(await flagged(stack, 2), key=lambda r: (r.created_at, r.id))
    view = await open_home(stack, "U0ANA")
    text = render(stack, "U0ANA")
    assert "Waiting for your decision" in text and first.order_name in text and second.order_name in text
    assert "You have not voted yet" in text
    status, _ = await stack.sim.click_view(view["id"], ActionId.APPROVE, "U0ANA",
                                           block_id=f"{BlockId.QUEUE_ITEM}-{first.id}")
    assert status == 200
    await stack.settle()  # the vote queued a Home refresh; the worker ran it
    assert (await stack.request_for(stack.shopify.orders[first.order_gid])).status == "approved"
    text = render(stack, "U0ANA")
    assert first.order_name not in text.split("Your recent decisions")[0]
    assert f"{first.order_name}: you voted *approve*" in text


async def test_a_burst_of_decisions_redraws_each_home_once_in_its_final_state(stack):
    reqs = await flagged(stack, 6)
    publishes = len(stack.slack.calls_to("views.publish"))
    for req in reqs:  # six decisions within the publish delay: one redraw per Home, not six
        status, _ = await stack.click(req, ActionId.APPROVE, "U0BEN")
        assert status == 200
    await stack.settle()
    redrawn = [c["args"].get("user_id") for c in stack.slack.calls_to("views.publish")[publishes:]]
    assert 0 < redrawn.count("U0BEN") <= 2 and redrawn.count("U0ANA") <= 2, redrawn
    text = render(stack, "U0BEN")
    assert all(f"{req.order_name}: you voted *approve*" in text for req in reqs[:3])


async def test_home_is_refreshed_for_everyone_who_can_see_a_decision(stack):
    [req] = await flagged(stack)
    for user in ("U0ANA", "U0BEN", "U0MAX", "U0GIL", "U0EVE"):
        await open_home(stack, user)
    assert req.order_name in render(stack, "U0ANA")
    eve_before = stack.slack.home_views["U0EVE"]["hash"]
    await stack.click(req, ActionId.APPROVE, "U0BEN")
    await stack.settle()
    assert any(j.kind == JobKind.HOME_REFRESH for j in await stack.jobs(status="done"))
    # Ana (co-approver), Ben (voter), and both managers see the decision; Eve's Home is not touched.
    assert req.order_name not in render(stack, "U0ANA").split("Your recent decisions")[0]
    assert f"{req.order_name}: you voted *approve*" in render(stack, "U0BEN")
    for manager in ("U0MAX", "U0GIL"):
        assert "This week" in render(stack, manager) and "1 approved" in render(stack, manager)
    assert stack.slack.home_views["U0EVE"]["hash"] == eve_before


async def test_manager_home_shows_the_week_and_the_oldest_pending(stack):
    [staff] = await flagged(stack)
    [big] = await flagged(stack, **BIG)
    await stack.click(big, ActionId.REJECT, "U0BEN")
    await stack.settle()
    await open_home(stack, "U0MAX")
    text = render(stack, "U0MAX")
    assert "This week" in text and "1 rejected" in text and "Oldest pending requests" in text
    assert staff.order_name in text.split("Oldest pending requests")[1]
    assert "Waiting for your decision" not in text  # a manager who approves nothing gets no approver panel
    assert all(b["type"] != "actions" for b in stack.slack.home_views["U0MAX"]["blocks"])


async def test_home_for_someone_with_no_role_and_a_busy_approver_stays_within_limits(stack):
    await open_home(stack, "U0EVE")
    assert "nothing here for you" in render(stack, "U0EVE")
    await flagged(stack, 25)
    view = await open_home(stack, "U0ANA")
    assert len(view["blocks"]) <= 100 and "and 5 more" in render(stack, "U0ANA")


async def test_messages_tab_is_ignored(stack):
    status, _ = await stack.sim.event({"type": "app_home_opened", "user": "U0ANA", "channel": "D0X", "tab": "messages"})
    assert status == 200
    await stack.settle()
    assert "U0ANA" not in stack.slack.home_views
