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
    sb.grant_customer_data("shpat_x")  # the reconcile page reads customer names and emails
    server = TestServer(sb.make_app())
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        def client(token="shpat_x", **kw):
            url = str(server.make_url(f"/{SHOP}/admin/api/2026-10/graphql.json"))
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



class SlowRefundingShopify(ShopifyClient):
    """Shopify's replies as seen on the wire (no server): each order read requests 103 points, actually costs
    4, and its reply (after 50 ms) reports the bucket with the unused points refunded."""

    async def _post(self, body, token):
        await asyncio.sleep(0.05)
        return 200, {"data": {"order": {"id": "gid://shopify/Order/1"}}, "extensions": {"cost": {
            "requestedQueryCost": 103, "actualQueryCost": 4,
            "throttleStatus": {"maximumAvailable": 250.0, "currentlyAvailable": 246, "restoreRate": 1.0}}}}


async def test_refunds_from_replies_let_waiting_requests_go():
    # Ten reads together really cost 40 points of a 250-point bucket. Paced by requested cost alone at
    # 1 point/s, the fourth would sleep about a minute; the client must wake on each reply's fresh reading.
    c = SlowRefundingShopify(None, shop=SHOP, token="t", url="http://unused")  # type: ignore[arg-type]

    def read():
        return c.execute(gql.ORDER_FULFILLMENT_ORDERS, {"id": "gid://shopify/Order/1"}, name="OrderFulfillmentOrders")

    await read()  # learns the bucket and this query's requested cost
    results = await asyncio.wait_for(asyncio.gather(*(read() for _ in range(10))), timeout=30)
    assert len(results) == 10 and c.throttled_replies == 0


async def test_concurrent_first_use_of_a_shop_shares_one_client():
    # Jobs starting together after a restart all ask for the shop's client while its token is being loaded;
    # separate clients would each believe they own the whole cost bucket.
    from bot.shopify.client import ShopifyClients

    async def token_for(shop: str) -> str:
        await asyncio.sleep(0.01)
        return "shpat_x"

    async with aiohttp.ClientSession() as http:
        clients = ShopifyClients(http, url_template="http://x/{shop}/{version}", api_version="2026-10",
                                 token_for=token_for)
        got = await asyncio.gather(*(clients.get(SHOP) for _ in range(8)))
    assert len({id(c) for c in got}) == 1


async def test_a_background_read_lets_holds_and_tags_go_first_then_runs_in_a_lull():
    # Reconciliation reads pages of ~750 points. Queued in line with holds, one page would make every hold
    # behind it wait for the bucket to refill; as a background read it waits aside and goes in a lull.
    sb = ShopifySandbox(bucket_size=1000.0, restore_rate=250.0)
    sb.add_shop(SHOP, access_token="shpat_x", webhook_secret="s")
    sb.grant_customer_data("shpat_x")  # the reconcile page reads customer names and emails
    server = TestServer(sb.make_app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            c = ShopifyClient(http, shop=SHOP, token="shpat_x", timeout_s=5.0,
                              url=str(server.make_url(f"/{SHOP}/admin/api/2026-10/graphql.json")))
            order = sb.create_order(SHOP, line_items=[{"title": "Mug", "quantity": 1, "price": "1.00"}])

            def page():
                return c.execute(gql.RECONCILE_ORDERS, {"first": 10, "after": None, "query": ""},
                                 name="ReconcileOrders", background=True)

            def tag(i):
                return c.execute(gql.TAGS_ADD, {"id": order.gid, "tags": [f"t{i}"]}, name="TagsAdd")

            await page()  # learns the bucket and the page's price (~750 points asked, most refunded)
            await asyncio.gather(*(tag(i) for i in range(40)))  # busy: 400 of the 1,000 points spent
            sb.calls.clear()
            background = asyncio.create_task(page())  # asks first, but would leave less than a fifth free
            await asyncio.sleep(0.01)
            await asyncio.wait_for(asyncio.gather(*(tag(i) for i in range(40, 45))), timeout=10)
            await asyncio.wait_for(background, timeout=10)
    finally:
        await server.close()
    order_of_calls = [call["operation"] for call in sb.calls]
    assert order_of_calls == ["TagsAdd"] * 5 + ["ReconcileOrders"], order_of_calls
    assert c.throttled_replies == 0
