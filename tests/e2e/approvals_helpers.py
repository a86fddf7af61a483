"""Shared pieces of the /approvals and App Home end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib

from bot.approvals.policies import load_text
from bot.cli.devstack import CHANNEL, DevStack
from tests.e2e.conftest import STAFF

POLICIES = """
version: 1
roles:
  managers:
    users: [U0MAX]
    groups: [S0MGRS]
policies:
  - id: staff-orders
    name: Staff order
    priority: 10
    channel: C0APPROVALS
    approvers: {users: [U0ANA, U0BEN]}
    when: {customer_tag: staff}
    fields: {reject: []}
  - id: high-value
    name: High-value order
    priority: 30
    channel: C0APPROVALS
    approvers: {users: [U0BEN]}
    when: {total_price: {gte: 5000}}
    fields: {reject: []}
"""
BIG = dict(line_items=[{"title": "Pallet", "sku": "PAL-1", "quantity": 1, "price": "6000.00"}],
           customer={"email": "b2b@example.com", "first_name": "Bea", "last_name": "Buyer", "tags": []})


@contextlib.asynccontextmanager
async def approvals_stack(database_url: str, **settings):
    """A stack with managers (U0MAX by id, U0GIL through a user group) and two policies."""
    async with DevStack(database_url=database_url, policies=load_text(POLICIES), **settings) as stack:
        stack.slack.add_user("U0MAX", name="max", real_name="Max Manager")
        stack.slack.add_user("U0GIL", name="gil", real_name="Gil Groupmanager")
        stack.slack.add_usergroup("S0MGRS", ["U0GIL"])
        yield stack


async def until(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll until predicate() is truthy; return its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not met in {timeout}s")
        await asyncio.sleep(0.02)


async def command(stack: DevStack, text: str, user: str, channel: str = CHANNEL) -> dict:
    """Run `/approvals text` as `user`; the ephemeral reply Slack recorded from the response_url."""
    before = len(stack.slack.responses)
    status, body = await stack.sim.slash("/approvals", text, user, channel)
    assert status == 200 and body == "", (status, body)  # acked at once, with nothing in the ack
    await until(lambda: len(stack.slack.responses) > before, what=f"reply to /approvals {text}")
    [reply] = [r for r in stack.slack.ephemerals[-5:] if r["user"] == user][-1:]
    assert stack.slack.responses[before]["response_type"] == "ephemeral"
    return reply


async def more(stack: DevStack, reply: dict, user: str) -> dict:
    """Click the reply's "more" button; the next page."""
    from bot.blocks.ids import ActionId

    before = len(stack.slack.responses)
    status, _ = await stack.sim.click_ephemeral(reply, ActionId.MORE, user)
    assert status == 200
    await until(lambda: len(stack.slack.responses) > before, what="next page")
    return [r for r in stack.slack.ephemerals if r["user"] == user][-1]


async def flagged(stack: DevStack, n: int = 1, **order) -> list:
    """Place n flagged orders through the real flow and return their requests."""
    orders = [await stack.place_order(**(order or STAFF)) for _ in range(n)]
    await stack.settle()
    return [await stack.request_for(o) for o in orders]


def text_of(stack: DevStack, reply: dict) -> str:
    """A reply as readable text."""
    return stack.slack.render(reply["blocks"]) if reply["blocks"] else reply["text"]


def buttons(reply: dict) -> list[tuple[str, str]]:
    """(block_id, action_id) of every button."""
    return [(b["block_id"], e["action_id"]) for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]


def texts(reply: dict) -> str:
    """Every mrkdwn/plain text string in the reply's blocks, as sent (no rendering)."""
    out: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(reply["blocks"])
    return "\n".join(out)
