"""Socket Mode end to end: the sandbox speaks Slack's websocket protocol; the bot acts on it and reconnects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
import pytest

from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from sandbox.devserver import serve
from sandbox.slack import SlackSandbox
from tests.e2e.conftest import STAFF


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll until `condition()` holds, or fail saying `what` never happened."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def socket_stack(database_url):
    """The bot in Socket Mode against the sandboxes, with its first connection up."""
    async with DevStack(database_url=database_url, socket_mode=True) as s:
        s.slack.add_usergroup("S0FINANCE", ["U0BEN"])  # the example policies name this group
        await until(lambda: s.slack.socket_connections == 1, "the bot's first Socket Mode connection")
        yield s


@pytest.fixture
async def sandbox():
    """A lone Slack sandbox on a loopback port, plus an HTTP session to talk to it."""
    sb = SlackSandbox(bot_token="xoxb-test", app_token="xapp-test")
    runner, port = await serve(sb.make_app())
    sb.base_url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        yield sb, http
    await runner.cleanup()


async def open_connection(sb: SlackSandbox, http: aiohttp.ClientSession, token: str) -> dict:
    async with http.post(f"{sb.base_url}/api/apps.connections.open", headers={"Authorization": f"Bearer {token}"}) as r:
        return await r.json()


async def approve(stack: DevStack, order) -> None:
    """An approver clicks Approve; the request ends approved and every hold is released."""
    req = await stack.request_for(order)
    sent = len(stack.slack.socket.envelopes)
    status, _ = await stack.click(req, ActionId.APPROVE, "U0ANA")
    assert status == 200
    [delivery] = stack.slack.socket.envelopes[sent:]
    assert delivery["envelope"]["type"] == "interactive" and delivery["ack"] == {}
    assert delivery["envelope"]["payload"]["actions"][0]["action_id"] == ActionId.APPROVE
    await stack.settle()
    req = await stack.request_for(order)
    assert (req.status, req.decided_by, req.hold_state) == ("approved", "U0ANA", "released")
    for fo in stack.shopify.orders[order.gid].fulfillment_orders:
        assert fo.status == "OPEN" and fo.holds == []
    assert "Approved" in stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))


async def flagged(stack: DevStack):
    """Place a staff order and wait until its approval message is posted."""
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    assert req is not None and req.message_ts
    assert stack.slack.message(CHANNEL, req.message_ts) is not None
    return order


# -- the sandbox's protocol, seen by a bare websocket client -------------------------------------------------------
async def test_connections_open_takes_only_the_app_level_token(sandbox):
    sb, http = sandbox
    assert await open_connection(sb, http, "xoxb-test") == {"ok": False, "error": "not_allowed_token_type"}
    assert await open_connection(sb, http, "xapp-wrong") == {"ok": False, "error": "invalid_auth"}
    opened = await open_connection(sb, http, "xapp-test")
    assert opened["ok"] and opened["url"].startswith(f"ws://127.0.0.1:{sb.base_url.rsplit(':', 1)[1]}/socket-mode/")
    async with http.post(f"{sb.base_url}/api/chat.postMessage", json={"channel": "C1", "text": "x"},
                         headers={"Authorization": "Bearer xapp-test"}) as r:
        assert (await r.json())["error"] == "not_allowed_token_type"  # an app-level token posts nothing
    assert [c["ok"] for c in sb.calls_to("apps.connections.open")] == [False, False, True]


async def test_hello_envelope_ack_and_a_single_use_url(sandbox):
    sb, http = sandbox
    url = (await open_connection(sb, http, "xapp-test"))["url"]
    async with http.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=2)
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": sb.app_id} and "host" in hello["debug_info"]
        assert sb.socket_connections == 1
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(url)  # the ticket was spent on the first connection

        delivery = asyncio.create_task(sb.socket_deliver("slash_commands", {"command": "/approvals", "text": ""}))
        envelope = await ws.receive_json(timeout=2)
        assert envelope["type"] == "slash_commands" and envelope["payload"]["command"] == "/approvals"
        assert envelope["accepts_response_payload"] is True and envelope["retry_attempt"] == 0
        await ws.send_str(json.dumps({"envelope_id": "not-this-one", "payload": {"text": "stray"}}))
        await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "on it"}}))
        assert await delivery == {"text": "on it"}

        with pytest.raises(TimeoutError):  # an envelope nobody acks fails the delivery
            unanswered = asyncio.create_task(sb.socket_deliver("interactive", {"type": "block_actions"}, timeout=0.2))
            assert (await ws.receive_json(timeout=2))["accepts_response_payload"] is False
            await unanswered


async def test_disconnect_then_close_when_the_client_ignores_it(sandbox):
    sb, http = sandbox
    url = (await open_connection(sb, http, "xapp-test"))["url"]
    async with http.ws_connect(url) as ws:
        await ws.receive_json(timeout=2)
        dropping = asyncio.create_task(sb.drop_socket_connections("refresh_requested", grace=0.2))
        assert (await ws.receive_json(timeout=2))["reason"] == "refresh_requested"
        assert (await ws.receive(timeout=2)).type == aiohttp.WSMsgType.CLOSE
        assert await dropping == 1
    await until(lambda: sb.socket_connections == 0, "the dropped connection to go")
    assert sb.socket.history[0].dropped and sb.socket.history[0].close_code == 1001


# -- holdfast over Socket Mode ------------------------------------------------------------------------------------
async def test_bot_connects_with_the_app_token_and_approves_over_the_socket(socket_stack):
    stack = socket_stack
    [opened] = stack.slack.calls_to("apps.connections.open")
    assert opened["ok"]
    order = await flagged(stack)
    await approve(stack, order)
    assert stack.sim._session is None  # nothing went over HTTP to /slack/events


async def test_bot_reconnects_after_the_socket_is_closed(socket_stack):
    stack = socket_stack
    first, second = await flagged(stack), await flagged(stack)
    await approve(stack, first)

    assert await stack.slack.drop_socket_connections() == 1
    await until(lambda: len(stack.slack.calls_to("apps.connections.open")) >= 2 and stack.slack.socket_connections == 1,
                "the bot to ask for a new URL and reconnect")
    old, new = stack.slack.socket.history[0], stack.slack.socket.history[-1]
    assert old.dropped and old.close_code == 1001 and not new.ws.closed
    await approve(stack, second)
    assert stack.slack.socket.envelopes[-1]["connection"] == new.id  # the click came down the new socket


async def test_bot_heeds_a_disconnect_message_and_moves_to_a_new_connection(socket_stack):
    stack = socket_stack
    order = await flagged(stack)
    await stack.slack.drop_socket_connections("refresh_requested", grace=5.0)
    await until(lambda: stack.slack.socket_connections == 1 and len(stack.slack.socket.history) >= 2,
                "the bot to reconnect after `disconnect`")
    assert not stack.slack.socket.history[0].dropped  # the bot closed the old socket itself, as Slack asks
    assert len(stack.slack.calls_to("apps.connections.open")) >= 2
    await approve(stack, order)


async def test_slash_command_over_the_socket_is_acked_and_answered(socket_stack):
    stack = socket_stack
    order = await flagged(stack)
    status, body = await stack.sim.slash("/approvals", "queue", "U0ANA", CHANNEL)
    assert (status, body) == (200, "")  # an empty ack: the answer follows on the response_url
    [delivery] = stack.slack.socket.envelopes
    assert delivery["envelope"]["type"] == "slash_commands" and delivery["ack"] == {}
    await until(lambda: bool(stack.slack.responses), "the /approvals answer on the response_url")
    assert order.name in json.dumps(stack.slack.responses[-1])
