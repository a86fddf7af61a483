"""The Slack sandbox's scopes, channel membership and rate tiers, driven by the real slack_sdk client.

Each behaviour follows a row of sandbox/slack/reference.py (the method's docs.slack.dev page is cited there).
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackSandbox
from sandbox.slack.ratelimit import SLACK_LIMITS
from sandbox.slack.reference import METHODS, manifest_bot_scopes
from tests.sandbox.test_slack_sandbox import FakeClock

TOKEN = "xoxb-test"


async def _serve(sb: SlackSandbox):
    server = TestServer(sb.make_app())
    await server.start_server()
    sb.base_url = str(server.make_url(""))
    return server, AsyncWebClient(token=TOKEN, base_url=str(server.make_url("/api/")))


@pytest.fixture
async def slack():
    """A workspace with a public channel the bot was invited to, one it was not, and a private one it was not."""
    servers = []

    async def make(**kwargs) -> tuple[SlackSandbox, AsyncWebClient]:
        sb = SlackSandbox(bot_token=TOKEN, **kwargs)
        sb.add_user("U0ANA", name="ana")
        sb.add_channel("C0IN", name="approvals")
        sb.invite("C0IN")
        sb.add_channel("C0OUT", name="elsewhere", members=["U0ANA"])
        sb.add_channel("C0SECRET", name="secret", is_private=True, members=["U0ANA"])
        server, client = await _serve(sb)
        servers.append(server)
        return sb, client

    yield make
    for server in servers:
        await server.close()


async def _error(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value.response


def test_the_token_carries_manifest_scopes_by_default() -> None:
    assert SlackSandbox().bot_scopes == manifest_bot_scopes() and "chat:write" in manifest_bot_scopes()
    assert all(row.doc == f"https://docs.slack.dev/reference/methods/{name}" for name, row in METHODS.items())


async def test_missing_scope_names_needed_and_provided(slack) -> None:
    _, client = await slack(bot_scopes=["chat:write", "channels:history", "im:write"])
    dm = (await client.conversations_open(users="U0ANA"))["channel"]["id"]
    await client.chat_postMessage(channel=dm, text="hello")
    assert (await client.conversations_history(channel="C0IN"))["ok"]  # a public channel: channels:history
    refused = await _error(client.conversations_history(channel=dm))  # a DM: im:history
    assert refused.data == {"ok": False, "error": "missing_scope", "needed": "im:history",
                            "provided": "chat:write,channels:history,im:write"}
    assert refused.headers["x-accepted-oauth-scopes"] == "im:history"
    assert (await _error(client.users_info(user="U0ANA")))["needed"] == "users:read"
    assert (await _error(client.conversations_info(channel="C0IN")))["needed"] == "channels:read"
    assert (await _error(client.files_getUploadURLExternal(filename="a.csv", length=1)))["needed"] == "files:write"
    assert (await client.views_publish(user_id="U0ANA", view={"type": "home", "blocks": []}))["ok"]  # no scope


async def test_every_answer_carries_the_tokens_scopes_as_slack_sends_them(slack) -> None:
    _, client = await slack(bot_scopes=["chat:write", "commands"])
    tested = await client.auth_test()
    assert tested.headers["x-oauth-scopes"] == "chat:write,commands" and "x-accepted-oauth-scopes" not in tested.headers
    posted = await client.chat_postMessage(channel="C0IN", text="x")
    assert posted.headers["x-oauth-scopes"] == "chat:write,commands"
    assert posted.headers["x-accepted-oauth-scopes"] == "chat:write"
    # bolt builds the bot's scopes from auth.test's header.
    from slack_bolt.middleware.authorization.internals import _to_authorize_result

    assert _to_authorize_result(tested, TOKEN, None).bot_scopes == ["chat:write", "commands"]


async def test_a_bot_outside_a_channel_gets_what_each_method_documents(slack) -> None:
    sb, client = await slack()
    assert (await _error(client.chat_postMessage(channel="C0OUT", text="x")))["error"] == "not_in_channel"
    assert (await _error(client.chat_postEphemeral(channel="C0OUT", user="U0ANA", text="x")))["error"] == \
        "not_in_channel"
    assert (await _error(client.conversations_history(channel="C0OUT")))["error"] == "not_in_channel"
    assert (await _error(client.conversations_replies(channel="C0OUT", ts="1.0")))["error"] == "channel_not_found"
    info = await client.conversations_info(channel="C0OUT")
    assert info["channel"]["name"] == "elsewhere" and info["channel"]["is_member"] is False
    assert (await client.conversations_info(channel="C0IN"))["channel"]["is_member"] is True
    # A private channel is invisible to a bot that is not in it.
    for call in (client.chat_postMessage(channel="C0SECRET", text="x"), client.conversations_info(channel="C0SECRET"),
                 client.conversations_history(channel="C0SECRET")):
        assert (await _error(call))["error"] == "channel_not_found"
    assert sb.messages["C0OUT"] == [] and sb.messages["C0SECRET"] == []
    sb.invite("C0OUT")
    assert (await client.chat_postMessage(channel="C0OUT", text="now"))["ok"]
    sb.remove("C0OUT")
    assert (await _error(client.chat_postMessage(channel="C0OUT", text="gone")))["error"] == "not_in_channel"


async def test_chat_write_public_posts_in_public_channels_only(slack) -> None:
    _, client = await slack(bot_scopes=["chat:write", "chat:write.public", "channels:history"])
    assert (await client.chat_postMessage(channel="C0OUT", text="x"))["ok"]
    assert (await _error(client.conversations_history(channel="C0OUT")))["error"] == "not_in_channel"
    assert (await _error(client.chat_postMessage(channel="C0SECRET", text="x")))["error"] == "channel_not_found"


async def test_files_shared_into_a_channel_need_membership(slack) -> None:
    sb, client = await slack()
    refused = await _error(client.files_upload_v2(channel="C0OUT", content="a,b\n", filename="a.csv"))
    assert refused["error"] == "not_in_channel" and sb.files == []


async def test_rate_tiers_are_on_by_default_and_scale(slack) -> None:
    clock = FakeClock()
    sb, client = await slack(clock=clock)
    assert sb.limiter.limits == SLACK_LIMITS
    assert sb.limiter.limits["usergroups.users.list"] == (pytest.approx(20 / 60), 20.0)  # Tier 2
    for _ in range(3):
        await client.chat_postMessage(channel="C0IN", text="burst")
    limited = await _error(client.chat_postMessage(channel="C0IN", text="too fast"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    ts = sb.messages["C0IN"][0].ts
    for _ in range(50):  # Tier 3: a minute's worth at once
        await client.chat_update(channel="C0IN", ts=ts, text="y")
    limited = await _error(client.chat_update(channel="C0IN", ts=ts, text="y"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"  # 50 a minute: 1.2 s to the next
    clock.advance(1.2)
    assert (await client.chat_update(channel="C0IN", ts=ts, text="y"))["ok"]
    fast, _ = await slack(clock=clock, rate_scale=60.0)
    assert fast.limiter.limits["chat.update"] == (pytest.approx(50.0), 50.0)
    off, _ = await slack(rate_limits={})
    assert off.limiter.limits == {}
