"""`/approvals queue`: signed slash commands over HTTP, replies recorded by the sandbox's response_url."""

import re

import pytest

from bot.blocks.ids import ActionId, BlockId
from bot.blocks.queue import MESSAGE_BLOCKS, PAGE_SIZE
from bot.cli.devstack import CHANNEL
from tests.e2e.approvals_helpers import BIG, approvals_stack, buttons, command, flagged, more, text_of


@pytest.fixture
async def stack(database_url):
    async with approvals_stack(database_url) as s:
        yield s


async def test_queue_is_the_default_lists_oldest_first_with_working_buttons(stack):
    staff = sorted(await flagged(stack, 2), key=lambda r: (r.created_at, r.id))
    reply = await command(stack, "", "U0ANA")
    text = text_of(stack, reply)
    assert "Waiting for a decision" in text and "Staff order" in text and "no votes yet" in text
    assert text.index(staff[0].order_name) < text.index(staff[1].order_name)
    assert buttons(reply) == [(f"{BlockId.QUEUE_ITEM}-{r.id}", a) for r in staff for a in (ActionId.APPROVE, ActionId.REJECT)]
    # The queue's Approve is the channel message's Approve: same handler, same outcome.
    status, _ = await stack.sim.click_ephemeral(reply, ActionId.APPROVE, "U0ANA", block_id=f"{BlockId.QUEUE_ITEM}-{staff[0].id}")
    assert status == 200
    status, _ = await stack.sim.click_ephemeral(reply, ActionId.REJECT, "U0ANA", block_id=f"{BlockId.QUEUE_ITEM}-{staff[1].id}")
    assert status == 200
    await stack.settle()
    first, second = [await stack.request_for(stack.shopify.orders[r.order_gid]) for r in staff]
    assert (first.status, first.decided_by, second.status) == ("approved", "U0ANA", "rejected")
    assert "Approved" in stack.slack.render(stack.slack.message(CHANNEL, first.message_ts))
    assert "Nothing is waiting" in text_of(stack, await command(stack, "queue", "U0ANA"))


async def test_queue_shows_only_policies_the_caller_approves_and_everything_to_managers(stack):
    [staff] = await flagged(stack)
    [big] = await flagged(stack, **BIG)
    ana = text_of(stack, await command(stack, "queue", "U0ANA"))
    assert staff.order_name in ana and big.order_name not in ana  # Ana approves staff orders only
    ben = await command(stack, "queue", "U0BEN")
    assert staff.order_name in text_of(stack, ben) and big.order_name in text_of(stack, ben)
    manager = await command(stack, "queue", "U0MAX")
    assert big.order_name in text_of(stack, manager) and buttons(manager) == []  # a manager sees, but cannot vote


async def test_queue_filters_policy_shop_and_mine(stack):
    [staff] = await flagged(stack)
    [big] = await flagged(stack, **BIG)
    text = text_of(stack, await command(stack, "queue policy:high-value", "U0BEN"))
    assert big.order_name in text and staff.order_name not in text and "policy `high-value`" in text
    assert "Nothing is waiting" in text_of(stack, await command(stack, "queue shop:other-store", "U0BEN"))
    text = text_of(stack, await command(stack, f"queue shop:{staff.shop_domain.split('.')[0]}", "U0BEN"))
    assert staff.order_name in text and big.order_name in text
    await stack.click(big, ActionId.APPROVE, "U0BEN")
    await stack.settle()
    # `mine`: only what still waits for my vote (Ben voted on the big one, which is decided anyway).
    await stack.click(staff, ActionId.APPROVE, "U0ANA")
    await stack.settle()
    [other] = await flagged(stack)
    mine = text_of(stack, await command(stack, "mine", "U0BEN"))
    assert other.order_name in mine and staff.order_name not in mine and big.order_name not in mine


async def test_queue_paginates_at_the_block_limit_with_a_more_button(stack):
    # The worker flags orders concurrently: "oldest first" is the requests' creation order.
    reqs = sorted(await flagged(stack, PAGE_SIZE + 2), key=lambda r: (r.created_at, r.id))
    first = await command(stack, "queue", "U0ANA")
    assert MESSAGE_BLOCKS - 2 <= len(first["blocks"]) <= MESSAGE_BLOCKS  # the page uses the room Slack allows
    text = text_of(stack, first)
    assert all(r.order_name in text for r in reqs[:PAGE_SIZE]) and reqs[PAGE_SIZE].order_name not in text
    assert buttons(first)[-1][1] == ActionId.MORE
    second = await more(stack, first, "U0ANA")
    text = text_of(stack, second)
    assert [r.order_name for r in reqs[PAGE_SIZE:]] == re.findall(r"#\d+", text)
    assert ActionId.MORE not in [a for _, a in buttons(second)]


async def test_unknown_input_gets_help_not_an_error(stack):
    reply = await command(stack, "frobnicate the queue", "U0ANA")
    text = text_of(stack, reply)
    assert "I did not understand `frobnicate`" in text and "/approvals queue" in text
    assert "/approvals audit" not in text  # managers' commands are listed to managers
    text = text_of(stack, await command(stack, "help", "U0MAX"))
    for example in ("/approvals history #1001", "/approvals audit @ana rejected", "/approvals stats since 30d",
                    "/approvals queue policy:staff-orders mine"):
        assert example in text
    assert "is not a date" in text_of(stack, await command(stack, "stats since yesterday-ish", "U0MAX"))
