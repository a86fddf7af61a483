"""The Admin GraphQL client against the sandbox: it waits for the cost bucket instead of being THROTTLED."""

import asyncio

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.shopify import documents as gql
from bot.shopify.client import ShopifyClient, ShopifyError, ShopifyTransientError
from sandbox.shopify import ShopifySandbox

SHOP = "bucket.myshopify.com"


@pytest.fixture
async def shop():
    sb = ShopifySandbox(bucket_size=60.0, restore_rate=200.0)
    sb.add_shop(SHOP, access_token="shpat_x", webhook_secret="s")
    server = TestServer(sb.make_app())
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        def client(token="shpat_x", **kw):
            url = str(server.make_url(f"/{SHOP}/admin/api/2025-04/graphql.json"))
            return ShopifyClient(http, shop=SHOP, token=token, url=url, timeout_s=1.0, **kw)
        yield sb, client
    await server.close()


async def test_client_paces_itself_by_throttle_status(shop):
    sb, client = shop
    c = client()
    order = sb.create_order(SHOP, line_items=[{"title": "Mug", "quantity": 1, "price": "1.00"}])
    results = await asyncio.gather(*(c.execute(gql.TAGS_ADD, {"id": order.gid, "tags": [f"t{i}"]}, name="TagsAdd")
                                     for i in range(30)))
    assert all(not r.user_errors("tagsAdd") for r in results)
    assert len(sb.orders[order.gid].tags) == 30
    # 30 mutations of 10 points through a 60-point bucket: only the first burst may meet THROTTLED.
    throttled = sum(1 for call in sb.calls if call.get("throttled"))
    assert throttled == c.throttled_replies <= 2


async def test_throttled_and_5xx_are_retried_then_surface_as_transient(shop):
    sb, client = shop
    c = client(max_tries=3)
    order = sb.create_order(SHOP, line_items=[{"title": "Mug", "quantity": 1, "price": "1.00"}])
    sb.faults.add(kind="throttled", root_field="tagsAdd", times=1)
    sb.faults.add(kind="5xx", root_field="tagsAdd", times=1)
    await c.execute(gql.TAGS_ADD, {"id": order.gid, "tags": ["x"]}, name="TagsAdd")
    assert "x" in sb.orders[order.gid].tags
    sb.faults.add(kind="5xx", root_field="tagsAdd", times=3)
    with pytest.raises(ShopifyTransientError, match="gave up after 3 tries"):
        await c.execute(gql.TAGS_ADD, {"id": order.gid, "tags": ["y"]}, name="TagsAdd")


async def test_bad_token_and_bad_query_fail_for_good(shop):
    _, client = shop
    with pytest.raises(ShopifyError, match="HTTP 401"):
        await client(token="wrong").execute(gql.TAGS_ADD, {"id": "gid://shopify/Order/1", "tags": ["x"]},
                                            name="TagsAdd")
    with pytest.raises(ShopifyError):
        await client().execute("query Nope { nope }", {}, name="Nope")
