"""Webhook deliveries as Shopify makes them: headers, the served version, retries, and what a failure deletes."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.shopify import API_VERSION, ShopifySandbox
from sandbox.shopify.schema import SUPPORTED_API_VERSIONS
from sandbox.webhooks import RETRIES, TIMEOUT_S, retry_delays, send_shopify_webhook, sign_shopify_webhook

SHOP = "deliver.myshopify.com"
TOKEN = "shpat_deliver"
HEADERS = ("X-Shopify-Topic", "X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id",
           "X-Shopify-Event-Id", "X-Shopify-Triggered-At", "X-Shopify-API-Version")


class Endpoint:
    """A webhook receiver answering each POST with the next of `replies` (a status, or "slow": no answer in time)."""

    def __init__(self, *replies: int | str, then: int = 200) -> None:
        self.replies, self.then = list(replies), then
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        reply = self.replies.pop(0) if self.replies else self.then
        if reply == "slow":
            await asyncio.sleep(1.0)
            reply = 200
        return web.Response(status=int(reply))


@pytest.fixture
async def served():
    """(endpoint factory, url) over real HTTP."""
    endpoints: list[Endpoint] = []
    app = web.Application()

    async def route(request: web.Request) -> web.Response:
        return await endpoints[-1].handle(request)

    app.router.add_post("/hooks", route)
    async with TestServer(app) as server:
        def make(*replies: int | str, then: int = 200) -> Endpoint:
            endpoints.append(Endpoint(*replies, then=then))
            return endpoints[-1]
        yield make, str(server.make_url("/hooks"))


@pytest.fixture
async def sb():
    sandbox = ShopifySandbox(webhook_retry_scale=1e-5)  # Shopify's 4 hours in 0.144 s
    sandbox.add_shop(SHOP, access_token=TOKEN, webhook_secret="whsec")
    sandbox.grant_customer_data(TOKEN)
    yield sandbox
    await sandbox.close()


def test_the_retry_schedule_is_eight_retries_over_four_hours() -> None:
    delays = retry_delays()
    assert len(delays) == RETRIES == 8 and sum(delays) == pytest.approx(4 * 3600)
    assert all(later == pytest.approx(2 * earlier) for earlier, later in zip(delays, delays[1:]))  # exponential
    assert sum(retry_delays(1e-4)) == pytest.approx(1.44) and TIMEOUT_S == 5.0


async def test_a_delivery_carries_shopifys_headers_and_the_served_version(sb: ShopifySandbox, served) -> None:
    make, url = served
    endpoint = make()
    sb.shops[SHOP].webhook_url = url
    order = sb.create_order(SHOP, line_items=[{"title": "Mug", "quantity": 1, "price": "12.00"}])
    assert await sb.deliver_webhook(SHOP, "orders/create", order.webhook_body()) == 200
    raw, headers = endpoint.received[0]
    assert all(headers.get(h) for h in HEADERS), headers
    assert headers["X-Shopify-Topic"] == "orders/create" and headers["X-Shopify-Shop-Domain"] == SHOP
    assert headers["X-Shopify-Hmac-Sha256"] == sign_shopify_webhook("whsec", raw)
    assert headers["X-Shopify-API-Version"] == API_VERSION and headers["X-Shopify-Triggered-At"].endswith("Z")
    assert json.loads(raw)["name"] == order.name and sb.webhook_deliveries[0].status == 200
    # A subscription made in a retired version gets its bodies in the oldest supported one (falls forward).
    await sb.deliver_webhook(SHOP, "orders/create", order.webhook_body(), api_version="2025-04")
    assert endpoint.received[1][1]["X-Shopify-API-Version"] == min(SUPPORTED_API_VERSIONS)
    async with aiohttp.ClientSession() as session:  # the one-shot sender signs the same way
        assert await send_shopify_webhook(url, topic="app/uninstalled", shop=SHOP, secret="whsec", body=b"{}",
                                          api_version=API_VERSION, session=session) == 200
    assert endpoint.received[2][1]["X-Shopify-Hmac-Sha256"] == sign_shopify_webhook("whsec", b"{}")


async def test_a_failure_is_retried_with_the_original_webhook(sb: ShopifySandbox, served) -> None:
    make, url = served
    endpoint = make(500, "slow", then=200)
    body = sb.create_order(SHOP, line_items=[{"title": "Mug", "quantity": 1, "price": "12.00"}]).webhook_body()
    assert await sb.deliver_webhook(SHOP, "orders/create", body, url=url, timeout=0.3) == 500
    await sb.deliveries.settle()
    delivery = sb.webhook_deliveries[0]
    assert [a.status for a in delivery.attempts] == [500, None, 200] and delivery.state == "delivered"
    assert "Timeout" in (delivery.attempts[1].error or "")  # no answer within the timeout is a failure
    assert len(endpoint.received) == 3
    raws = {raw for raw, _ in endpoint.received}
    assert len(raws) == 1  # the original body, byte for byte
    for name in ("X-Shopify-Webhook-Id", "X-Shopify-Hmac-Sha256", "X-Shopify-Triggered-At", "X-Shopify-Event-Id"):
        assert len({h[name] for _, h in endpoint.received}) == 1, name


async def test_after_the_last_retry_an_api_subscription_is_deleted(sb: ShopifySandbox, served) -> None:
    make, url = served
    endpoint = make(then=503)
    client = TestClient(TestServer(sb.make_app()))
    await client.start_server()
    try:
        reply = await client.post(f"/{SHOP}/admin/api/{API_VERSION}/graphql.json",
                                  headers={"X-Shopify-Access-Token": TOKEN},
                                  json={"query": CREATE, "variables": {"url": url}})
        assert (await reply.json())["data"]["webhookSubscriptionCreate"]["userErrors"] == []
        sub = next(iter(sb.webhook_subscriptions.values()))
        assert await sb.deliver_webhook(SHOP, "orders/create", {"id": 1}) == 503
        await sb.deliveries.settle()
        delivery = sb.webhook_deliveries[0]
        assert len(delivery.attempts) == 1 + RETRIES and delivery.state == "failed" and delivery.subscription == sub.gid
        assert len(endpoint.received) == 9 and sb.webhook_subscriptions == {}
        assert sb.lookup(sub.gid, SHOP) is None
    finally:
        await client.close()


async def test_an_app_scoped_subscription_survives_and_is_not_listed(sb: ShopifySandbox, served) -> None:
    make, url = served
    make(then=500)
    declared = sb.declare_webhook(TOKEN, "orders/create", url)
    assert await sb.deliver_webhook(SHOP, "orders/create", {"id": 1}) == 500
    await sb.deliveries.settle()
    assert sb.webhook_deliveries[0].state == "failed" and sb.webhook_deliveries[0].subscription == declared.gid
    assert declared.gid in sb.deliveries.app_subscriptions  # configuration is not deleted by failures
    async with TestClient(TestServer(sb.make_app())) as client:
        reply = await client.post(f"/{SHOP}/admin/api/{API_VERSION}/graphql.json",
                                  headers={"X-Shopify-Access-Token": TOKEN},
                                  json={"query": "{ webhookSubscriptions(first: 10) { nodes { id topic } } }"})
        assert (await reply.json())["data"]["webhookSubscriptions"]["nodes"] == []  # shop-scoped ones only


async def test_close_cancels_the_retries_still_waiting(served) -> None:
    make, url = served
    endpoint = make(then=500)
    sandbox = ShopifySandbox()  # Shopify's own schedule: the first retry is ~56 s away
    sandbox.add_shop(SHOP, access_token=TOKEN)
    assert await sandbox.deliver_webhook(SHOP, "orders/create", {"id": 1}, url=url) == 500
    assert sandbox.deliveries._tasks
    await sandbox.close()
    assert not sandbox.deliveries._tasks and len(endpoint.received) == 1
    assert sandbox.webhook_deliveries[0].state == "pending"  # never finished: cancelled


async def test_no_answer_at_all_raises_after_recording_the_attempt(sb: ShopifySandbox) -> None:
    with pytest.raises(ConnectionError):
        await sb.deliver_webhook(SHOP, "orders/create", {"id": 1}, url="http://127.0.0.1:9/hooks")
    assert sb.webhook_deliveries[0].attempts[0].status is None


CREATE = """mutation($url: String!) {
  webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $url}) {
    webhookSubscription { id } userErrors { field message } } }"""
