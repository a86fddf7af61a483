"""Protected customer data: redacted in webhooks and GraphQL unless the app is approved (customer_data.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.devserver import APP, make_sandboxes
from sandbox.devserver import SHOP as DEV_SHOP
from sandbox.shopify import API_VERSION, ShopifySandbox
from sandbox.shopify.customer_data import SUBSCRIBE_REFUSED

SHOP = "pcd.myshopify.com"
TOKEN = "shpat_pcd"
ADDRESS = {"first_name": "Ann", "last_name": "Lee", "address1": "1 Rue", "address2": "Apt 2", "city": "Paris",
           "province_code": "75", "country": "France", "country_code": "FR", "zip": "75001", "phone": "+33100"}


@pytest.fixture
async def sb():
    sandbox = ShopifySandbox()
    sandbox.add_shop(SHOP, access_token=TOKEN)
    yield sandbox
    await sandbox.close()


def order(sb: ShopifySandbox):
    return sb.create_order(SHOP, line_items=[{"title": "Mug", "quantity": 1, "price": "12.00"}],
                           customer={"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee",
                                     "phone": "+33100", "tags": ["staff"], "orders_count": 2},
                           email="ann@example.com", phone="+33100", shipping_address=ADDRESS, billing_address=ADDRESS)


async def gql(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    url = f"/{SHOP}/admin/api/{API_VERSION}/graphql.json"
    reply = await client.post(url, headers={"X-Shopify-Access-Token": TOKEN},
                              json={"query": query, "variables": variables or {}})
    assert reply.status == 200
    return await reply.json()


SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: "https://bot.example/shopify/webhooks"}) {
    webhookSubscription { id } userErrors { field message } } }"""


async def test_subscribing_to_customer_data_topics_needs_approval(sb: ShopifySandbox, client: TestClient) -> None:
    refused = (await gql(client, SUBSCRIBE, {"topic": "ORDERS_CREATE"}))["data"]["webhookSubscriptionCreate"]
    assert refused == {"webhookSubscription": None,
                       "userErrors": [{"field": ["webhookSubscription"], "message": SUBSCRIBE_REFUSED}]}
    assert SUBSCRIBE_REFUSED.startswith("This app is not approved to subscribe to webhook topics containing "
                                        "protected customer data.")
    fine = (await gql(client, SUBSCRIBE, {"topic": "APP_UNINSTALLED"}))["data"]["webhookSubscriptionCreate"]
    assert fine["userErrors"] == []
    sb.grant_customer_data(TOKEN, fields=())  # level 1 is enough to subscribe
    assert (await gql(client, SUBSCRIBE, {"topic": "ORDERS_CREATE"}))["data"]["webhookSubscriptionCreate"][
        "userErrors"] == []


async def test_graphql_redacts_unapproved_fields_and_keeps_the_rest(sb: ShopifySandbox, client: TestClient) -> None:
    o = order(sb)
    query = """query($id: ID!) { order(id: $id) { id email phone
      customer { firstName lastName tags numberOfOrders defaultEmailAddress { emailAddress } }
      shippingAddress { firstName address1 zip city countryCodeV2 provinceCode } } }"""
    sb.grant_customer_data(TOKEN, fields=("email",))  # level 1 and email, not name, phone nor address
    body = await gql(client, query, {"id": o.gid})
    data = body["data"]["order"]
    assert data["email"] == "ann@example.com" and data["phone"] is None
    assert data["customer"] == {"firstName": None, "lastName": None, "tags": ["staff"], "numberOfOrders": "2",
                                "defaultEmailAddress": {"emailAddress": "ann@example.com"}}
    assert data["shippingAddress"] == {"firstName": None, "address1": None, "zip": None, "city": "Paris",
                                       "countryCodeV2": "FR", "provinceCode": "75"}
    errors = body["errors"]
    assert {tuple(e["path"][-2:]) for e in errors} >= {("order", "phone"), ("customer", "firstName"),
                                                      ("shippingAddress", "address1")}
    assert all(e["extensions"]["code"] == "ACCESS_DENIED" for e in errors)
    assert any("not approved to access the Customer object" in e["message"] for e in errors)
    sb.customer_data.pop(TOKEN)  # no approval at all: the Customer object is denied as a whole
    body = await gql(client, query, {"id": o.gid})
    assert body["data"]["order"]["customer"] is None and body["data"]["order"]["email"] is None


async def test_webhooks_null_the_unapproved_fields_and_keep_the_shape(sb: ShopifySandbox) -> None:
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hooks", receive)
    o = order(sb)
    full = o.webhook_body()
    async with TestServer(app) as server:
        sb.shops[SHOP].webhook_url = str(server.make_url("/hooks"))
        sb.grant_customer_data(TOKEN, fields=("phone",))
        await sb.deliver_webhook(SHOP, "orders/create", full)
        sb.grant_customer_data(TOKEN)
        await sb.deliver_webhook(SHOP, "orders/create", full)
    redacted, whole = received
    assert whole == full and set(redacted) == set(full)
    assert redacted["email"] is None and redacted["contact_email"] is None and redacted["phone"] == "+33100"
    assert {k: redacted["customer"][k] for k in ("first_name", "last_name", "email", "phone")} == {
        "first_name": None, "last_name": None, "email": None, "phone": "+33100"}
    ship = redacted["shipping_address"]
    assert (ship["first_name"], ship["name"], ship["address1"], ship["zip"]) == (None, None, None, None)
    assert (ship["city"], ship["country_code"], ship["province_code"]) == ("Paris", "FR", "75")
    assert redacted["customer"]["id"] == full["customer"]["id"] and redacted["total_price"] == full["total_price"]
    assert full["email"] == "ann@example.com"  # the sandbox's own copy is untouched


def test_holdfasts_app_is_approved_in_the_dev_sandboxes_and_others_are_not() -> None:
    shopify, _ = make_sandboxes()
    assert shopify.customer_data_for(APP).allows("email")
    shopify.add_access_token(DEV_SHOP, "shpat_other", app="other-app")
    assert not shopify.customer_data_for("other-app").level1
    with pytest.raises(ValueError):
        shopify.grant_customer_data("other-app", fields=("emails",))
