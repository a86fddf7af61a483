"""The Slack sandbox driven by the real slack_sdk client, slack-bolt and the signed-request simulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.simulator import SlackSimulator, sign_slack_request
from sandbox.slack import SlackSandbox

TOKEN = "xoxb-test"
SECRET = "sandbox-signing-secret"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def button(action_id: str, text: str, value: str = "v") -> dict:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}


def request_blocks() -> list[dict]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Order #1001 needs approval"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Total*\n$1,200"},
                                       {"type": "mrkdwn", "text": "*Policy*\nlarge-b2b"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "requested by <@U0STAFF>"}]},
        {"type": "actions", "block_id": "decide",
         "elements": [button("approve", "Approve", "req-1"), button("reject", "Reject", "req-1")]},
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def env(clock: FakeClock):
    sb = SlackSandbox(bot_token=TOKEN, team_id="T0HOLDFAST", bot_user_id="U0HOLDBOT", clock=clock,
                      rate_limits={"chat.postMessage": 1.0})
    sb.add_user("U0APPROVER", name="ana", real_name="Ana Approver")
    sb.add_user("U0STAFF", name="sam", real_name="Sam Staff")
    sb.add_channel("C0APPROVALS", name="approvals", members=["U0APPROVER", "U0STAFF"])
    sb.invite("C0APPROVALS")  # /invite @holdfast
    sb.add_usergroup("S0FINANCE", ["U0APPROVER", "U0STAFF"])
    server = TestServer(sb.make_app())
    await server.start_server()
    sb.base_url = str(server.make_url(""))
    client = AsyncWebClient(token=TOKEN, base_url=str(server.make_url("/api/")))
    yield sb, client
    await server.close()


async def test_post_update_and_history_with_metadata(env) -> None:
    sb, client = env
    meta = {"event_type": "approval_requested", "event_payload": {"request_id": "req-1"}}
    first = await client.chat_postMessage(channel="C0APPROVALS", text="Order #1001", blocks=request_blocks(),
                                          metadata=meta)
    second = await client.chat_postMessage(channel="C0APPROVALS", text="Order #1002")
    assert first["channel"] == "C0APPROVALS" and first["message"]["metadata"] == meta
    await client.chat_update(channel="C0APPROVALS", ts=first["ts"], text="Approved by Ana",
                             blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Approved"}}])
    msg = sb.message("C0APPROVALS", first["ts"])
    assert msg.text == "Approved by Ana" and msg.history[0]["text"] == "Order #1001"
    assert msg.blocks[0]["block_id"]  # Slack fills in missing block_ids; so does the sandbox
    history = await client.conversations_history(channel="C0APPROVALS", include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [second["ts"], first["ts"]]
    assert history["messages"][1]["metadata"] == meta and history["messages"][1]["edited"]["ts"]
    plain = await client.conversations_history(channel="C0APPROVALS", oldest=first["ts"])
    assert [m["ts"] for m in plain["messages"]] == [second["ts"]] and "metadata" not in plain["messages"][0]
    assert sb.find_messages(metadata_event_type="approval_requested") == [msg]
    page = await client.conversations_history(channel="C0APPROVALS", limit=1)
    rest = await client.conversations_history(channel="C0APPROVALS", cursor=page["response_metadata"]["next_cursor"])
    assert page["has_more"] and [m["ts"] for m in rest["messages"]] == [first["ts"]]


async def test_threads_permalink_and_missing_targets(env) -> None:
    sb, client = env
    parent = await client.chat_postMessage(channel="C0APPROVALS", text="parent")
    await client.chat_postMessage(channel="C0APPROVALS", text="reply", thread_ts=parent["ts"])
    thread = await client.conversations_replies(channel="C0APPROVALS", ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["parent", "reply"]
    assert thread["messages"][0]["reply_count"] == 1
    top = await client.conversations_history(channel="C0APPROVALS")
    assert [m["text"] for m in top["messages"]] == ["parent"]
    link = await client.chat_getPermalink(channel="C0APPROVALS", message_ts=parent["ts"])
    assert link["permalink"].endswith("/archives/C0APPROVALS/p" + parent["ts"].replace(".", ""))
    for call, error in [(client.chat_update(channel="C0APPROVALS", ts="1.000001", text="x"), "message_not_found"),
                        (client.chat_postMessage(channel="C0NOPE", text="x"), "channel_not_found")]:
        with pytest.raises(SlackApiError) as info:
            await call
        assert info.value.response["error"] == error


async def test_form_body_with_token_field_and_blocks_string(env) -> None:
    sb, client = env
    form = {"token": TOKEN, "channel": "approvals", "text": "form post", "blocks": json.dumps(request_blocks()),
            "metadata": json.dumps({"event_type": "x", "event_payload": {}})}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sb.base_url}/api/chat.postMessage", data=form) as resp:
            body = await resp.json()
        async with session.post(f"{sb.base_url}/api/chat.postMessage", data={"channel": "C0APPROVALS"}) as resp:
            unauthenticated = await resp.json()
    assert body["ok"] and sb.message("C0APPROVALS", body["ts"]).blocks[3]["elements"][0]["action_id"] == "approve"
    assert unauthenticated == {"ok": False, "error": "not_authed"}


async def test_bad_token_is_invalid_auth(env) -> None:
    sb, client = env
    bad = AsyncWebClient(token="xoxb-wrong", base_url=client.base_url)
    with pytest.raises(SlackApiError) as info:
        await bad.chat_postMessage(channel="C0APPROVALS", text="x")
    assert info.value.response.status_code == 200 and info.value.response["error"] == "invalid_auth"
    assert sb.messages["C0APPROVALS"] == [] and sb.calls[-1]["error"] == "invalid_auth"
    assert (await client.auth_test())["bot_id"] == "B0HOLDFAST"


async def test_ephemeral_dm_users_and_usergroups(env) -> None:
    sb, client = env
    eph = await client.chat_postEphemeral(channel="C0APPROVALS", user="U0STAFF", text="only you")
    assert eph["message_ts"] and sb.ephemerals[-1]["user"] == "U0STAFF" and sb.ephemerals[-1]["text"] == "only you"
    with pytest.raises(SlackApiError) as info:
        await client.chat_postEphemeral(channel="C0APPROVALS", user="U0GHOST", text="x")
    assert info.value.response["error"] == "user_not_found"
    opened = await client.conversations_open(users="U0APPROVER")
    again = await client.conversations_open(users=["U0APPROVER"])
    assert opened["channel"]["id"].startswith("D") and again["channel"]["id"] == opened["channel"]["id"]
    assert again["already_open"] is True
    await client.chat_postMessage(channel=opened["channel"]["id"], text="reminder")
    assert sb.find_messages(channel=opened["channel"]["id"], text_contains="remind")
    assert (await client.users_info(user="U0APPROVER"))["user"]["real_name"] == "Ana Approver"
    assert (await client.usergroups_users_list(usergroup="S0FINANCE"))["users"] == ["U0APPROVER", "U0STAFF"]
    with pytest.raises(SlackApiError) as info:
        await client.usergroups_users_list(usergroup="S0NONE")
    assert info.value.response["error"] == "no_such_subteam"


MODAL = {"type": "modal", "callback_id": "reject-reason", "title": {"type": "plain_text", "text": "Reject"},
         "submit": {"type": "plain_text", "text": "Reject"}, "private_metadata": "req-1",
         "blocks": [{"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "Why?"},
                     "element": {"type": "plain_text_input", "action_id": "text"}}]}


async def test_views_trigger_expiry_reuse_update_push_publish(env, clock: FakeClock) -> None:
    sb, client = env
    stale = sb.new_trigger_id("U0APPROVER")
    clock.advance(3.5)
    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id=stale, view=MODAL)
    assert info.value.response["error"] == "expired_trigger_id"
    fresh = sb.new_trigger_id("U0APPROVER")
    clock.advance(2.9)
    view = (await client.views_open(trigger_id=fresh, view=MODAL))["view"]
    assert sb.views[view["id"]]["callback_id"] == "reject-reason" and sb.views[view["id"]]["user"] == "U0APPROVER"
    for trigger, error in [(fresh, "exchanged_trigger_id"), ("1.2.unknown", "invalid_trigger_id")]:
        with pytest.raises(SlackApiError) as info:
            await client.views_open(trigger_id=trigger, view=MODAL)
        assert info.value.response["error"] == error
    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view={**MODAL, "private_metadata": "v2"})
    assert sb.views[view["id"]]["private_metadata"] == "v2" and updated["view"]["hash"] != view["hash"]
    with pytest.raises(SlackApiError) as info:
        await client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)
    assert info.value.response["error"] == "hash_conflict"
    for _ in range(2):
        await client.views_push(trigger_id=sb.new_trigger_id("U0APPROVER"), view=MODAL)
    with pytest.raises(SlackApiError) as info:
        await client.views_push(trigger_id=sb.new_trigger_id("U0APPROVER"), view=MODAL)
    assert info.value.response["error"] == "push_limit_reached"
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "3 waiting"}}]}
    await client.views_publish(user_id="U0APPROVER", view=home)
    assert "3 waiting" in sb.render(sb.home_views["U0APPROVER"])


async def test_files_upload_v2_end_to_end(env) -> None:
    sb, client = env
    result = await client.files_upload_v2(channel="C0APPROVALS", content="order,approver\n1001,ana\n",
                                          filename="audit.csv", title="Audit", initial_comment="Audit export")
    assert result["file"]["id"].startswith("F") and result["file"]["title"] == "Audit"
    assert sb.files == [{"file_id": result["file"]["id"], "filename": "audit.csv",
                         "content": b"order,approver\n1001,ana\n", "channel_id": "C0APPROVALS", "title": "Audit",
                         "initial_comment": "Audit export", "thread_ts": None}]
    assert sb.find_messages(channel="C0APPROVALS", text_contains="Audit export")[0].files[0]["name"] == "audit.csv"


def _text_section(n: int) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "x" * n}}


@pytest.mark.parametrize("blocks, pointer", [
    ([_text_section(1)] * 51, "/blocks"),
    ([_text_section(3001)], "/blocks/0/text/text"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text/text"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text"),
    ([{"type": "actions", "elements": [button("a", "b" * 76)]}], "/blocks/0/elements/0/text/text"),
    ([{"type": "actions", "elements": [button("a" * 256, "b")]}], "/blocks/0/elements/0/action_id"),
    ([{"type": "actions", "elements": [button("a", "b", "v" * 2001)]}], "/blocks/0/elements/0/value"),
    ([{"type": "actions", "elements": [button(f"a{i}", "b") for i in range(26)]}], "/blocks/0/elements"),
    ([{"type": "actions", "elements": [button("a", "b"), button("a", "c")]}], "/blocks/0/elements/1/action_id"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "/blocks/0/elements"),
    ([dict(_text_section(1), block_id="b" * 256)], "/blocks/0/block_id"),
    ([dict(_text_section(1), block_id="same"), dict(_text_section(1), block_id="same")], "/blocks/1/block_id"),
    ([{"type": "sektion"}], "/blocks/0"),
])
async def test_block_kit_limits_give_invalid_blocks(env, blocks, pointer) -> None:
    sb, client = env
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0APPROVALS", text="x", blocks=blocks)
    messages = info.value.response["response_metadata"]["messages"]
    assert info.value.response["error"] == "invalid_blocks"
    assert any(m.startswith("[ERROR] ") and m.endswith(f"[json-pointer:{pointer}]") for m in messages), messages
    assert sb.messages["C0APPROVALS"] == []


async def test_limits_that_pass_and_long_text(env) -> None:
    sb, client = env
    ok = [_text_section(3000)] + [{"type": "actions", "elements": [button(f"a{i}", "b" * 75) for i in range(25)]}]
    ok += [dict(_text_section(1), block_id=f"b{i}") for i in range(48)]
    assert (await client.chat_postMessage(channel="C0APPROVALS", text="x" * 40000, blocks=ok))["ok"]
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0APPROVALS", text="x" * 40001)
    assert info.value.response["error"] == "msg_too_long"


@pytest.mark.parametrize("change, pointer", [
    ({"title": {"type": "plain_text", "text": "t" * 25}}, "/view/title/text"),
    ({"private_metadata": "m" * 3001}, "/view/private_metadata"),
    ({"callback_id": "c" * 256}, "/view/callback_id"),
    ({"blocks": [_text_section(1)] * 101}, "/view/blocks"),
])
async def test_modal_limits_give_invalid_arguments(env, change, pointer) -> None:
    sb, client = env
    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id=sb.new_trigger_id("U0APPROVER"), view={**MODAL, **change})
    assert info.value.response["error"] == "invalid_arguments"
    assert any(pointer in m for m in info.value.response["response_metadata"]["messages"])
    assert sb.views == {}


async def test_per_channel_rate_limit_answers_429_with_retry_after(env, clock: FakeClock) -> None:
    sb, client = env
    for _ in range(2):  # rate 1/s allows a burst of 2
        await client.chat_postMessage(channel="C0APPROVALS", text="burst")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0APPROVALS", text="too fast")
    assert info.value.response.status_code == 429 and info.value.response.headers["Retry-After"] == "1"
    assert info.value.response["error"] == "ratelimited"
    dm = (await client.conversations_open(users="U0APPROVER"))["channel"]["id"]
    assert (await client.chat_postMessage(channel=dm, text="other channel"))["ok"]
    clock.advance(1.0)
    assert (await client.chat_postMessage(channel="C0APPROVALS", text="later"))["ok"]
    assert [c["status"] for c in sb.calls_to("chat.postMessage")] == [200, 200, 429, 200, 200]


async def test_per_channel_burst_and_per_method_limits_together(env, clock: FakeClock) -> None:
    sb, client = env
    sb.limiter.set("chat.postMessage", (2.0, 3.0))  # 2 a second per channel, bursts of 3
    sb.limiter.set("chat.update", 1.0)  # per workspace (a burst of 2), whatever the channel
    dm = (await client.conversations_open(users="U0APPROVER"))["channel"]["id"]
    statuses = []
    for channel in ("C0APPROVALS",) * 4 + (dm,) * 4:
        try:
            statuses.append((await client.chat_postMessage(channel=channel, text="x")).status_code)
        except SlackApiError as exc:
            statuses.append(exc.response.status_code)
            assert exc.response.headers["Retry-After"] == "1" and exc.response["error"] == "ratelimited"
    assert statuses == [200, 200, 200, 429] * 2  # each channel has its own bucket
    clock.advance(0.5)  # one token back (2 a second)
    assert (await client.chat_postMessage(channel="C0APPROVALS", text="later"))["ok"]
    ts = sb.messages["C0APPROVALS"][0].ts
    for expected in (200, 200, 429):
        try:
            status = (await client.chat_update(channel=dm if expected == 429 else "C0APPROVALS", ts=ts, text="y")).status_code
        except SlackApiError as exc:
            status = exc.response.status_code
        assert status == expected
    # Limiter 429s are marked, so a benchmark tells them from injected faults.
    sb.faults.add(kind="429", method="chat.postMessage", times=1)
    clock.advance(10.0)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0APPROVALS", text="fault")
    limited = [c for c in sb.calls if c["status"] == 429]
    assert [c.get("limited") for c in limited] == [True, True, True, False]
    assert [c["method"] for c in limited] == ["chat.postMessage", "chat.postMessage", "chat.update", "chat.postMessage"]


def test_slack_limits_preset_scales_rates_not_bursts() -> None:
    from sandbox.slack.ratelimit import SLACK_LIMITS, RateLimiter, scaled

    fast = scaled(SLACK_LIMITS, 10.0)
    assert fast["chat.postMessage"] == (10.0, 3.0)
    assert fast["chat.update"] == (pytest.approx(50 / 6), 50.0)  # Tier 3: a minute's 50 at once, then 50 a minute
    limiter = RateLimiter(fast)
    waits = [limiter.check("chat.postMessage", "C1", 0.0) for _ in range(4)]
    assert waits == [0, 0, 0, 1]  # three at once, then Retry-After (whole seconds, at least 1)
    assert limiter.check("chat.postMessage", "C1", 0.1) == 0  # 10 a second


async def test_faults_429_5xx_and_timeout(env) -> None:
    sb, client = env
    sb.faults.add(kind="429", method="chat.update", times=1, retry_after=7)
    sb.faults.add(kind="5xx", method=None, times=2)
    with pytest.raises(SlackApiError) as info:
        await client.chat_update(channel="C0APPROVALS", ts="1.0", text="x")
    assert info.value.response.status_code == 429 and info.value.response.headers["Retry-After"] == "7"
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            await client.auth_test()
        assert info.value.response.status_code == 500
    assert (await client.auth_test())["ok"]
    sb.faults.add(kind="timeout", method="chat.postMessage", delay=1.0)
    impatient = AsyncWebClient(token=TOKEN, base_url=client.base_url, timeout=0.2)  # type: ignore[arg-type]
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel="C0APPROVALS", text="lost")
    assert sb.messages["C0APPROVALS"] == [] and sb.calls[-1]["error"] == "timeout"


def test_slack_signing_vector_reproduces() -> None:
    path = SHARED / "vectors" / "signature_vectors.json"
    if not path.exists():
        pytest.skip(f"shared test vectors not found at {path} (../shared relative to the project root)")
    vector = json.loads(path.read_text())["slack"][0]
    got = sign_slack_request(vector["signing_secret"], vector["timestamp"], vector["body"].encode())
    assert got == vector["expected_signature"]
    tampered = vector["negative_cases"][0]["body"].encode()
    assert sign_slack_request(vector["signing_secret"], vector["timestamp"], tampered) != got


async def test_simulator_requests_pass_signature_verifier(env) -> None:
    sb, client = env
    seen: list[tuple[bytes, dict]] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append((await request.read(), dict(request.headers)))
        return web.Response(text="")

    capture_app = web.Application()
    capture_app.router.add_post("/slack/events", capture)
    async with TestServer(capture_app) as server:
        posted = await client.chat_postMessage(channel="C0APPROVALS", text="x", blocks=request_blocks())
        async with SlackSimulator(str(server.make_url("/slack/events")), SECRET, sb) as sim:
            await sim.click("C0APPROVALS", posted["ts"], "approve", "U0APPROVER")
            await sim.slash("/order-request", "10 mugs", "U0STAFF", "C0APPROVALS")
    verifier = SignatureVerifier(SECRET)
    assert len(seen) == 2 and all(verifier.is_valid_request(body, headers) for body, headers in seen)
    assert not SignatureVerifier("other-secret").is_valid_request(*seen[0])


async def test_bolt_app_against_sandbox_and_simulator(env) -> None:
    sb, client = env
    bolt = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=client.base_url), signing_secret=SECRET,
                    process_before_response=True)
    submitted: list[dict] = []

    @bolt.action("reject")
    async def on_reject(ack, body, client):
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view={**MODAL, "private_metadata": body["container"]["message_ts"]})

    @bolt.action("approve")
    async def on_approve(ack, body, respond):
        await ack()
        await respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    @bolt.view("reject-reason")
    async def on_submit(ack, view, client):
        await ack()
        submitted.append(view["state"]["values"])
        await client.chat_update(channel="C0APPROVALS", ts=view["private_metadata"], text="Rejected", blocks=[])

    @bolt.command("/order-request")
    async def on_command(ack, command):
        await ack(f"Got it, {command['user_name']}: {command['text']}")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    bot_app = web.Application()
    bot_app.router.add_post("/slack/events", events)
    async with TestServer(bot_app) as bot_server:
        async with SlackSimulator(str(bot_server.make_url("/slack/events")), SECRET, sb) as sim:
            first = await client.chat_postMessage(channel="C0APPROVALS", text="req 1", blocks=request_blocks())
            second = await client.chat_postMessage(channel="C0APPROVALS", text="req 2", blocks=request_blocks())
            assert (await sim.click("C0APPROVALS", first["ts"], "approve", "U0APPROVER"))[0] == 200
            assert sb.message("C0APPROVALS", first["ts"]).text == "Approved by <@U0APPROVER>"
            assert sb.responses[-1]["replace_original"] is True
            assert (await sim.click("C0APPROVALS", second["ts"], "reject", "U0APPROVER"))[0] == 200
            (view_id,) = sb.views
            status, _ = await sim.submit_view(view_id, "U0APPROVER",
                                              {"reason": {"text": {"type": "plain_text_input", "value": "no budget"}}})
            status_cmd, reply = await sim.slash("/order-request", "10 mugs", "U0STAFF", "C0APPROVALS")
            bad_status, _ = await sim.post_raw(b"payload=%7B%7D", "application/x-www-form-urlencoded",
                                               signature="v0=" + "0" * 64)
    assert status == 200 and submitted == [{"reason": {"text": {"type": "plain_text_input", "value": "no budget"}}}]
    assert sb.message("C0APPROVALS", second["ts"]).text == "Rejected" and sb.view_stacks["U0APPROVER"] == []
    assert status_cmd == 200 and "Got it, sam: 10 mugs" in reply
    assert bad_status == 401


async def test_response_url_in_channel_and_use_limit(env) -> None:
    sb, client = env
    url = sb.issue_response_url(channel="C0APPROVALS", message_ts=None, user="U0STAFF")
    async with aiohttp.ClientSession() as session:
        statuses = []
        for i in range(6):
            async with session.post(url, json={"response_type": "in_channel", "text": f"queue {i}"}) as resp:
                statuses.append(resp.status)
    assert statuses == [200] * 5 + [404]
    assert [m.text for m in sb.messages["C0APPROVALS"]] == [f"queue {i}" for i in range(5)]


def test_render_shows_headers_fields_and_buttons() -> None:
    text = SlackSandbox().render(request_blocks())
    assert text.splitlines()[:2] == ["Order #1001 needs approval", "=" * 26]
    assert "Total: $1,200" in text and "requested by @U0STAFF" in text
    assert text.splitlines()[-1] == "[Approve] [Reject]"
