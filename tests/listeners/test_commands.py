"""Slash commands and the other surfaces, called as bolt calls them."""

from __future__ import annotations

import asyncio

from handlers import commands, home, order_request
from tests.listeners.conftest import add_request


class FakeRespond:
    def __init__(self, events):
        self.events = events

    async def __call__(self, **kwargs):
        self.events.append(("respond", kwargs))


async def test_approvals_acks_at_once_and_answers_after(rt, ack, context, events):
    respond = FakeRespond(events)

    await commands.approvals(ack=ack, body={"user_id": "U0ANA", "text": "help"}, respond=respond, context=context)
    assert events == [("ack", {})], "the answer comes after the ack, never before"
    await asyncio.gather(*commands.BACKGROUND)

    answer = [e for e in events if e[0] == "respond"]
    assert answer and answer[0][1]["response_type"] == "ephemeral" and "/approvals queue" in str(answer[0][1]["blocks"])


async def test_a_tampered_page_button_is_acked_and_answers_nothing(rt, ack, context, events):
    respond = FakeRespond(events)
    body = {"type": "block_actions", "user": {"id": "U0ANA"}}

    await commands.next_page(ack=ack, body=body, action={"value": '{"q": "queue", "evil": 1}'}, respond=respond,
                             context=context)

    assert events == [("ack", {})] and not commands.BACKGROUND


async def test_a_tampered_cancel_button_is_acked_and_cancels_nothing(rt, ack, client, context, events):
    request_id = await add_request(rt, policy_id="quick")
    events.clear()
    body = {"type": "block_actions", "user": {"id": "U0ANA"}, "channel": {"id": "D0ANA"}}

    for value in ("", f'{{"request_id": "{request_id}", "also": "this"}}'):
        await order_request.cancel(ack=ack, body=body, action={"value": value}, client=client, context=context)

    assert events == [("ack", {}), ("ack", {})]


async def test_app_home_acks_the_event_then_draws_the_home(rt, ack, context, events):
    await home.opened(ack=ack, event={"type": "app_home_opened", "user": "U0ANA", "tab": "messages"},
                      context=context)
    assert events == [("ack", {})] and not home.BACKGROUND, "the Messages tab draws nothing"
