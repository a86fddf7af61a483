"""Request signing: Slack v0 signatures and Shopify webhook HMACs, over HTTP against the running bot.

A refused request is a 401 and leaves no trace: no job, receipt, request, decision or audit row, and no
call to the sandbox Shopify or Slack.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from bot.blocks.ids import ActionId
from bot.cli.devstack import DevStack
from bot.settings import Settings
from sandbox.devserver import CHANNEL, SHOP, SIGNING_SECRET, WEBHOOK_SECRET
from sandbox.shopify import API_VERSION
from sandbox.simulator import FORM, sign_slack_request
from sandbox.webhooks import shopify_webhook_headers, sign_shopify_webhook
from storage import requests
from tests.conftest import shared_file
from tests.e2e.conftest import STAFF
from tests.security.conftest import post, snapshot


def vectors() -> dict:
    return json.loads(shared_file("vectors", "signature_vectors.json").read_text())


async def pending_request(stack: DevStack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    assert req.status == "pending" and req.message_ts
    return req


async def click_body(stack: DevStack, req, action_id: str = ActionId.APPROVE, user: str = "U0ANA") -> bytes:
    """The exact form body the simulator would send for a click (captured, not sent)."""
    captured: list[bytes] = []

    async def capture(body, content_type, **_):
        captured.append(body)
        return 0, ""

    real, stack.sim.post_raw = stack.sim.post_raw, capture
    try:
        await stack.click(req, action_id, user)
    finally:
        stack.sim.post_raw = real
    return captured[0]


def slack_headers(body: bytes, *, secret: str = SIGNING_SECRET, ts: int | None = None,
                  drop: tuple[str, ...] = ()) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": sign_slack_request(secret, stamp, body)}
    for name in drop:
        headers.pop(name)
    return headers


# --- Slack ---------------------------------------------------------------------------------------------------

async def test_slack_refusals_are_401_and_nothing_is_processed(stack):
    req = await pending_request(stack)
    body = await click_body(stack, req)
    before = await snapshot(stack)
    url = f"{stack.bot_url}/slack/events"
    now = int(time.time())
    tampered = body.replace(b"U0ANA", b"U0BEN")
    assert tampered != body
    cases = {
        "tampered body": (tampered, slack_headers(body)),
        "appended byte": (body + b"&", slack_headers(body)),
        "wrong secret": (body, slack_headers(body, secret="not-the-signing-secret")),
        "older than 5 minutes": (body, slack_headers(body, ts=now - 301)),
        "an hour old": (body, slack_headers(body, ts=now - 3600)),
        # (30 s of margin: the cases before this one take time, and the window is measured when it arrives.)
        "from the future": (body, slack_headers(body, ts=now + 330)),
        "missing signature": (body, slack_headers(body, drop=("X-Slack-Signature",))),
        "missing timestamp": (body, slack_headers(body, drop=("X-Slack-Request-Timestamp",))),
        "missing both": (body, slack_headers(body, drop=("X-Slack-Signature", "X-Slack-Request-Timestamp"))),
        "empty signature": (body, {**slack_headers(body), "X-Slack-Signature": ""}),
        "v1 scheme": (body, {**slack_headers(body), "X-Slack-Signature": slack_headers(body)["X-Slack-Signature"]
                             .replace("v0=", "v1=")}),
        "signature of another timestamp": (body, {**slack_headers(body, ts=now - 1),
                                                  "X-Slack-Request-Timestamp": str(now)}),
    }
    for what, (sent, headers) in cases.items():
        status, _ = await post(url, sent, headers)
        assert status == 401, what
    await stack.settle()
    assert await snapshot(stack) == before
    async with stack.rt.sessions() as session:
        assert (await requests.get(session, request_id=req.id)).status == "pending"
    # Control: the very same body, correctly signed now, is accepted and decides the request.
    status, _ = await post(url, body, slack_headers(body))
    assert status == 200
    await stack.settle()
    async with stack.rt.sessions() as session:
        assert (await requests.get(session, request_id=req.id)).status == "approved"


async def test_slack_published_signing_vector_against_the_bot(database_url, monkeypatch):
    """Slack's worked example: accepted when the clock says it is fresh, 401 otherwise (and when tampered)."""
    import slack_sdk.signature

    v = vectors()["slack"][0]
    body = v["body"].encode()
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": v["timestamp"],
               "X-Slack-Signature": v["expected_signature"]}
    assert sign_slack_request(v["signing_secret"], v["timestamp"], body) == v["expected_signature"]
    async with DevStack(database_url=database_url, slack_signing_secret=v["signing_secret"]) as stack:
        url = f"{stack.bot_url}/slack/events"
        assert (await post(url, body, headers))[0] == 401  # real clock: years outside the replay window
        monkeypatch.setattr(slack_sdk.signature.Clock, "now", lambda self: float(v["timestamp"]) + 10)
        status, _ = await post(url, body, headers)
        assert status != 401 and status < 500  # verified (an unknown slash command, so not handled)
        assert (await post(url, v["negative_cases"][0]["body"].encode(), headers))[0] == 401
        monkeypatch.setattr(slack_sdk.signature.Clock, "now", lambda self: float(v["timestamp"]) + 301)
        assert (await post(url, body, headers))[0] == 401


# --- Shopify -------------------------------------------------------------------------------------------------

def shopify_headers(body: bytes, secret: str = WEBHOOK_SECRET, **over: str) -> dict[str, str]:
    headers = shopify_webhook_headers(topic="orders/create", shop=SHOP, secret=secret, body=body,
                                      api_version=API_VERSION)
    headers.update(over)
    return headers


def order_body(stack: DevStack) -> bytes:
    order = stack.shopify.create_order(SHOP, **STAFF)
    return json.dumps(order.webhook_body()).encode()


async def test_shopify_refusals_are_401_and_nothing_is_processed(stack):
    body = order_body(stack)
    url = f"{stack.bot_url}/shopify/webhooks"
    before = await snapshot(stack)
    good = shopify_headers(body)
    no_hmac = dict(good)
    del no_hmac["X-Shopify-Hmac-Sha256"]
    cases = {
        "tampered body": (body.replace(b"staff", b"stuff"), good),
        "appended whitespace": (body + b" ", good),
        "missing header": (body, no_hmac),
        "empty header": (body, {**good, "X-Shopify-Hmac-Sha256": ""}),
        "wrong secret": (body, shopify_headers(body, secret="someone-elses-secret")),
        "hex instead of base64": (body, {**good, "X-Shopify-Hmac-Sha256": __import__("hmac").new(
            WEBHOOK_SECRET.encode(), body, "sha256").hexdigest()}),
        "truncated": (body, {**good, "X-Shopify-Hmac-Sha256": good["X-Shopify-Hmac-Sha256"][:-4]}),
        "signature of the empty body": (body, {**good, "X-Shopify-Hmac-Sha256": sign_shopify_webhook(WEBHOOK_SECRET, b"")}),
    }
    for what, (sent, headers) in cases.items():
        status, _ = await post(url, sent, headers)
        assert status == 401, what
    await stack.settle()
    assert await snapshot(stack) == before
    # Control: the untampered delivery is accepted and flags the order.
    assert (await post(url, body, good))[0] == 200
    await stack.settle()
    after = await snapshot(stack)
    assert after["requests"] == before["requests"] + 1 and after["receipts"] == before["receipts"] + 1


@pytest.mark.parametrize("index", range(4))
async def test_shopify_hmac_vectors_from_shopifys_libraries(database_url, index):
    v = vectors()["shopify"][index]
    rotation = "old secret" in v["name"]
    secrets = dict(shopify_api_secret="secret", shopify_api_secret_previous=v["secret"]) if rotation \
        else dict(shopify_api_secret=v["secret"])
    body = v["body"].encode()
    headers = {"X-Shopify-Topic": "shop/update", "X-Shopify-Shop-Domain": SHOP,  # stored, nothing to act on
               "X-Shopify-Webhook-Id": str(uuid.uuid4()), "Content-Type": "application/json",
               "X-Shopify-Hmac-Sha256": v["expected_hmac_base64"]}
    async with DevStack(database_url=database_url, **secrets) as stack:
        url = f"{stack.bot_url}/shopify/webhooks"
        status, text = await post(url, body, headers)
        # Verified: JSON bodies are stored (200), form bodies are refused as not JSON (400), never 401.
        assert status == (200 if body.startswith(b"{") else 400), text
        assert (await post(url, body + b"x", headers))[0] == 401
    if rotation:  # once the previous secret is dropped, the old signature stops verifying
        async with DevStack(database_url=database_url, shopify_api_secret="secret") as stack:
            assert (await post(f"{stack.bot_url}/shopify/webhooks", body, headers))[0] == 401


async def test_secret_rotation_accepts_old_and_new_while_configured(database_url):
    new = "rotated-shopify-app-secret"
    async with DevStack(database_url=database_url, shopify_api_secret=new,
                        shopify_api_secret_previous=WEBHOOK_SECRET) as stack:
        # The sandbox shop still signs with the old secret (retries of deliveries made before the rotation).
        await stack.place_order(**STAFF)
        url = f"{stack.bot_url}/shopify/webhooks"
        body = order_body(stack)
        assert (await post(url, body, shopify_headers(body, secret=new)))[0] == 200
        assert (await post(url, body, shopify_headers(body, secret="a-third-secret")))[0] == 401
        await stack.settle()
        assert len(await stack.jobs()) > 2
        counts = await snapshot(stack)
        assert counts["requests"] == 2 and counts["receipts"] == 2
    async with DevStack(database_url=database_url, shopify_api_secret=new) as stack:
        body = order_body(stack)
        assert (await post(f"{stack.bot_url}/shopify/webhooks", body, shopify_headers(body)))[0] == 401
        assert (await post(f"{stack.bot_url}/shopify/webhooks", body, shopify_headers(body, secret=new)))[0] == 200


def test_previous_secret_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SHOPIFY_API_SECRET", "s3cret-new-xyz")
    monkeypatch.setenv("SHOPIFY_API_SECRET_PREVIOUS", "s3cret-old-xyz")
    s = Settings()
    assert s.shopify_api_secret.get_secret_value() == "s3cret-new-xyz"
    assert s.shopify_api_secret_previous.get_secret_value() == "s3cret-old-xyz"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.model_dump())  # SecretStr hides both
