"""holdfast against Shopify's versions and scopes: it notices another API version (and says so once), and the
dev shop grants exactly the scopes it declares, so a document needing another fails as on a real shop."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.cli.devstack import SHOP
from sandbox.devserver import WEBHOOK_SECRET
from sandbox.devserver import APP, SHOP_TOKEN
from bot.settings import Settings
from bot.shopify import documents as gql
from bot.shopify.client import ShopifyClient, ShopifyClients, ShopifyError
from bot.shopify.scopes import ACCESS_SCOPES
from bot.shopify.versions import VersionWatch
from sandbox.devserver import make_sandboxes
from sandbox.shopify import ShopifySandbox
from sandbox.webhooks import shopify_webhook_headers

VERSIONS = "bot.shopify.versions"


def test_holdfast_pins_the_newest_supported_version() -> None:
    assert Settings.model_fields["shopify_api_version"].default == "2026-10"


def test_a_version_is_warned_about_once_per_shop(caplog: pytest.LogCaptureFixture) -> None:
    watch = VersionWatch("2026-10", source="Admin API reply")
    with caplog.at_level(logging.WARNING, logger=VERSIONS):
        assert not watch.see("2026-10", "a") and not watch.see(None, "a")
        assert watch.see("2026-01", "a") and not watch.see("2026-01", "a")
        assert watch.see("2026-01", "b") and watch.see("2026-04", "a")
    assert len(caplog.records) == 3
    assert "a: Admin API reply came in Admin API version '2026-01', not the pinned '2026-10'" in caplog.messages[0]


async def test_a_retired_pin_is_served_and_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    sb = ShopifySandbox()
    sb.add_shop("old.myshopify.com", access_token="shpat_old")
    server = TestServer(sb.make_app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            template = f"http://{server.host}:{server.port}/{{shop}}/admin/api/{{version}}/graphql.json"
            clients = ShopifyClients(http, url_template=template, api_version="2025-04", token_for=lambda _: _token())
            client = await clients.get("old.myshopify.com")
            with caplog.at_level(logging.WARNING, logger=VERSIONS):
                for _ in range(3):
                    result = await client.execute(gql.PAYMENT_TERMS_TEMPLATES, {"type": None},
                                                  name="PaymentTermsTemplates")
                    assert result.data["paymentTermsTemplates"]
    finally:
        await server.close()
    assert [c["version"] for c in sb.calls] == ["2026-01"] * 3  # fell forward to the oldest supported version
    warned = [m for m in caplog.messages if "not the pinned '2025-04'" in m]
    assert len(warned) == 1 and "old.myshopify.com" in warned[0] and "'2026-01'" in warned[0]


async def _token() -> str:
    return "shpat_old"


async def test_a_webhook_in_another_version_is_accepted_and_warned_about_once(stack,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    url = f"{stack.bot_url}/shopify/webhooks"
    statuses = []
    with caplog.at_level(logging.WARNING, logger=VERSIONS):
        async with aiohttp.ClientSession() as http:
            for n in (1, 2):
                body = json.dumps({"id": 900 + n, "name": f"#{900 + n}"}).encode()
                headers = shopify_webhook_headers(topic="orders/updated", shop=SHOP, secret=WEBHOOK_SECRET, body=body,
                                                  api_version="2026-01")
                async with http.post(url, data=body, headers=headers) as resp:
                    statuses.append(resp.status)
    assert statuses == [200, 200]
    warned = [m for m in caplog.messages if "webhook came in Admin API version '2026-01'" in m]
    assert len(warned) == 1


def test_the_dev_shop_grants_exactly_the_declared_scopes() -> None:
    shopify, _ = make_sandboxes()
    assert shopify.granted(SHOP, APP) == set(ACCESS_SCOPES)


# The scopes the README listed before API 2026-10 (without read_customers).
OLD_README_SCOPES = {"read_orders", "write_orders", "read_products", "read_draft_orders", "write_draft_orders",
                     "read_merchant_managed_fulfillment_orders", "write_merchant_managed_fulfillment_orders",
                     "read_third_party_fulfillment_orders", "write_third_party_fulfillment_orders"}


@pytest.mark.parametrize(("scopes", "denied"), [(OLD_README_SCOPES, True), (set(ACCESS_SCOPES), False)])
async def test_the_reconciliation_poll_needs_read_customers(scopes: set[str], denied: bool) -> None:
    sb = ShopifySandbox()
    sb.add_shop("poll.myshopify.com", access_token="shpat_poll", scopes=scopes)
    sb.grant_customer_data("shpat_poll")
    sb.create_order("poll.myshopify.com", line_items=[{"title": "Mug", "quantity": 1, "price": "1.00"}],
                    customer={"email": "a@example.com", "first_name": "A", "last_name": "B", "tags": ["vip"]})
    server = TestServer(sb.make_app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            client = ShopifyClient(http, shop="poll.myshopify.com", token="shpat_poll",
                                   url=str(server.make_url("/poll.myshopify.com/admin/api/2026-10/graphql.json")))
            poll = client.execute(gql.RECONCILE_ORDERS, {"first": 10, "after": None, "query": "status:any"},
                                  name="ReconcileOrders")
            if denied:
                with pytest.raises(ShopifyError, match="Access denied for customer field"):
                    await poll
            else:
                assert (await poll).data["orders"]["nodes"][0]["customer"]["tags"] == ["vip"]
    finally:
        await server.close()
