"""Bad input gets a clear answer: 401 for bad signatures, 400 with a reason for malformed bodies."""

import json

import aiohttp

from bot.cli.devstack import SHOP
from sandbox.devserver import WEBHOOK_SECRET
from sandbox.shopify import API_VERSION
from sandbox.webhooks import shopify_webhook_headers


async def post(url, body: bytes, headers):
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


def signed(body: bytes, **over):
    headers = shopify_webhook_headers(topic="orders/create", shop=SHOP, secret=WEBHOOK_SECRET, body=body,
                                      api_version=API_VERSION)
    headers.update(over)
    return headers


async def test_bad_hmac_is_401(stack):
    body = json.dumps({"id": 1}).encode()
    status, text = await post(f"{stack.bot_url}/shopify/webhooks", body,
                              signed(body, **{"X-Shopify-Hmac-Sha256": "AAAA"}))
    assert status == 401 and "signature" in text
    headers = signed(body)
    del headers["X-Shopify-Hmac-Sha256"]
    assert (await post(f"{stack.bot_url}/shopify/webhooks", body, headers))[0] == 401
    assert await stack.jobs() == []


async def test_malformed_bodies_are_400_with_a_reason(stack):
    url = f"{stack.bot_url}/shopify/webhooks"
    status, text = await post(url, b"{not json", signed(b"{not json"))
    assert status == 400 and "not valid JSON" in text
    status, text = await post(url, b"[1, 2]", signed(b"[1, 2]"))
    assert status == 400 and "order object" in text
    body = b'{"id": 5}'
    headers = signed(body)
    del headers["X-Shopify-Webhook-Id"]
    status, text = await post(url, body, headers)
    assert status == 400 and "X-Shopify-Webhook-Id" in text
    assert await stack.jobs() == []


async def test_bad_slack_signature_is_401(stack):
    body = b"payload=%7B%7D"
    status, _ = await stack.sim.post_raw(body, "application/x-www-form-urlencoded", signature="v0=deadbeef")
    assert status == 401
    status, _ = await stack.sim.post_raw(body, "application/x-www-form-urlencoded", timestamp="1531420618")
    assert status == 401  # outside the 5-minute replay window


async def test_health_and_metrics(stack):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.bot_url}/healthz") as resp:
            assert resp.status == 200
        async with http.get(f"{stack.bot_url}/metrics") as resp:
            assert resp.status == 200 and "holdfast_jobs" in await resp.text()


async def test_no_start_up_noise(database_url, monkeypatch, caplog):
    # bolt's "token will be unused" (SLACK_BOT_TOKEN in the environment beside the client holdfast gives it) and
    # apscheduler's "Adding job tentatively" say nothing an operator can act on.
    import logging

    from bot.cli.devstack import DevStack

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-sandbox-bot-token")
    caplog.set_level(logging.INFO)
    async with DevStack(database_url=database_url, run_scheduler=True):
        pass
    said = [r.getMessage() for r in caplog.records if r.name.startswith(("slack_bolt", "apscheduler"))
            and r.levelno >= logging.WARNING]
    assert not [m for m in said if "unused" in m or "ignored" in m], said
