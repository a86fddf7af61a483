"""The sandbox's OAuth over real HTTP: client credentials, the authorization code grant, expiring offline tokens
and their refresh rotation, and uninstalling (sandbox/shopify/oauth.py, oauth_store.py, app_lifecycle.py)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import shopify
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.shopify import ShopifySandbox
from sandbox.shopify.server import INVALID_TOKEN
from sandbox.webhooks import sign_shopify_webhook
from tests.sandbox.conftest import FakeClock

SHOP, OTHER = "oauth-store.myshopify.com", "elsewhere.myshopify.com"
CLIENT_ID, SECRET = "holdfast-client-id", "holdfast-client-secret"
CALLBACK = "https://bot.example/shopify/oauth/callback"
TOKEN_URL = f"/{SHOP}/admin/oauth/access_token"
GRAPHQL = f"/{SHOP}/admin/api/2026-10/graphql.json"
SHOP_QUERY = "{ shop { name } }"


@pytest.fixture
async def sb(clock: FakeClock):
    sandbox = ShopifySandbox(clock=clock, bucket_size=1000.0, restore_rate=50.0)
    sandbox.add_shop(SHOP, access_token="shpat_static", webhook_secret="shop-whsec")
    sandbox.add_shop(OTHER, access_token="shpat_other")
    sandbox.register_app(CLIENT_ID, SECRET, redirect_urls=[CALLBACK], organization_shops=[SHOP])
    yield sandbox
    await sandbox.close()


async def token_request(client: TestClient, shop: str = SHOP, *, as_json: bool = False,
                        **params: str) -> tuple[int, dict[str, Any]]:
    body = {"client_id": CLIENT_ID, "client_secret": SECRET, **params}
    url = f"/{shop}/admin/oauth/access_token"
    resp = await (client.post(url, json=body) if as_json else client.post(url, data=body))
    return resp.status, await resp.json()


async def graphql_status(client: TestClient, token: str) -> tuple[int, Any]:
    resp = await client.post(GRAPHQL, json={"query": SHOP_QUERY}, headers={"X-Shopify-Access-Token": token})
    return resp.status, await resp.json()


async def authorize(client: TestClient, **query: str) -> Any:
    params = {"client_id": CLIENT_ID, "scope": "write_orders,read_customers", "redirect_uri": CALLBACK,
              "state": "nonce-123", **query}
    return await client.get(f"/{SHOP}/admin/oauth/authorize", params=params, allow_redirects=False)


async def code_for(client: TestClient) -> str:
    resp = await authorize(client)
    assert resp.status == 302
    return dict(parse_qsl(urlsplit(resp.headers["Location"]).query))["code"]


# --- client credentials ---------------------------------------------------------------------------------------
async def test_client_credentials_token_calls_the_api(sb: ShopifySandbox, client: TestClient) -> None:
    sb.install_app(SHOP, CLIENT_ID, scopes=["write_orders", "read_customers"])
    status, body = await token_request(client, grant_type="client_credentials")
    assert status == 200 and set(body) == {"access_token", "scope", "expires_in"}
    assert body["access_token"].startswith("shpat_") and body["expires_in"] == 86399
    assert body["scope"] == "read_customers,write_orders"
    assert sb.shops[SHOP].tokens[body["access_token"]] == CLIENT_ID
    assert (await graphql_status(client, body["access_token"]))[0] == 200
    status, again = await token_request(client, as_json=True, grant_type="client_credentials")  # JSON body too
    assert status == 200 and again["access_token"] != body["access_token"]
    assert [(r["grant_type"], r["status"], r["error"]) for r in sb.token_requests] == [
        ("client_credentials", 200, None), ("client_credentials", 200, None)]


async def test_client_credentials_refusals(sb: ShopifySandbox, client: TestClient) -> None:
    sb.install_app(OTHER, CLIENT_ID)  # installed, but not a shop of the app's organization
    assert await token_request(client, OTHER, grant_type="client_credentials") == (400, {
        "error": "shop_not_permitted", "error_description": "Client credentials cannot be performed on this shop."})
    assert await token_request(client, grant_type="client_credentials") == (400, {  # org shop, not installed
        "error": "app_not_installed", "error_description": "The application is not installed on this shop."})
    sb.install_app(SHOP, CLIENT_ID)
    status, body = await token_request(client, grant_type="client_credentials", client_secret="wrong")
    assert status == 400 and body["error"] == "invalid_client"
    status, body = await token_request(client, grant_type="client_credentials", client_id="nobody")
    assert status == 400 and body["error"] == "invalid_client"
    resp = await client.post("/nowhere.myshopify.com/admin/oauth/access_token", data={"grant_type": "x"})
    assert resp.status == 404
    assert [r["error"] for r in sb.token_requests] == [
        "shop_not_permitted", "app_not_installed", "invalid_client", "invalid_client", None]


async def test_expired_access_token_is_refused_like_an_unknown_one(sb: ShopifySandbox, client: TestClient,
                                                                   clock: FakeClock) -> None:
    sb.oauth_apps[CLIENT_ID].client_credentials_ttl_s = 1  # a test shortens a ttl on the app
    sb.install_app(SHOP, CLIENT_ID)
    _, body = await token_request(client, grant_type="client_credentials")
    token = body["access_token"]
    assert body["expires_in"] == 1 and sb.token_deadlines[token] == clock.t + 1
    assert (await graphql_status(client, token))[0] == 200
    clock.t += 1.0
    assert await graphql_status(client, token) == (401, {"errors": INVALID_TOKEN})
    assert token not in sb.shops[SHOP].tokens and token not in sb.token_deadlines
    assert (await graphql_status(client, "shpat_static"))[0] == 200  # a static token never expires


# --- authorization code grant ---------------------------------------------------------------------------------
async def test_authorize_redirects_with_a_valid_hmac_and_the_state(sb: ShopifySandbox, client: TestClient) -> None:
    resp = await authorize(client)
    assert resp.status == 302
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    params = dict(parse_qsl(location.query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["state"] == "nonce-123" and params["shop"] == SHOP
    assert base64.urlsafe_b64decode(params["host"] + "==").decode() == "admin.shopify.com/store/oauth-store"
    verifier: Any = type("Verifier", (shopify.Session,), {"secret": SECRET})
    assert verifier.validate_params(params)  # hmac, and a fresh timestamp
    assert not verifier.validate_hmac({**params, "state": "forged"})
    assert sb.installed(SHOP, CLIENT_ID) and sb.granted(SHOP, CLIENT_ID) == {"write_orders", "read_customers"}


async def test_authorize_refusals(sb: ShopifySandbox, client: TestClient) -> None:
    resp = await authorize(client, redirect_uri="https://evil.example/callback")
    assert resp.status == 400
    assert "Oauth error invalid_request: The redirect_uri is not whitelisted" in await resp.text()
    assert (await authorize(client, client_id="unknown")).status == 400
    assert (await authorize(client, **{"grant_options[]": "per-user"})).status == 400
    missing = await client.get("/nowhere.myshopify.com/admin/oauth/authorize", params={"client_id": CLIENT_ID})
    assert missing.status == 404
    assert not sb.installed(SHOP, CLIENT_ID)


async def test_code_exchange_expiring_and_not(sb: ShopifySandbox, client: TestClient) -> None:
    code = await code_for(client)
    status, body = await token_request(client, code=code, expiring="1")
    assert status == 200
    assert set(body) == {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope"}
    assert body["expires_in"] == 3599 and body["refresh_token_expires_in"] == 7775999
    assert body["scope"] == "read_customers,write_orders"
    assert (await graphql_status(client, body["access_token"]))[0] == 200
    assert await token_request(client, code=code, expiring="1") == (400, {  # single use
        "error": "invalid_request", "error_description": "The authorization code was not found or was already used"})
    status, plain = await token_request(client, as_json=True, code=await code_for(client))
    assert status == 200 and set(plain) == {"access_token", "scope"}
    assert plain["access_token"] not in sb.token_deadlines  # never expires
    assert sb.token_requests[0]["grant_type"] == "authorization_code"


async def test_code_is_short_lived(sb: ShopifySandbox, client: TestClient, clock: FakeClock) -> None:
    code = await code_for(client)
    clock.t += 600
    status, body = await token_request(client, code=code)
    assert status == 400 and body["error"] == "invalid_request"


# --- refresh rotation -----------------------------------------------------------------------------------------
async def refresh(client: TestClient, token: str) -> tuple[int, dict[str, Any]]:
    return await token_request(client, grant_type="refresh_token", refresh_token=token)


REVOKED = (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})


async def test_refresh_retry_until_the_replacement_is_used(sb: ShopifySandbox, client: TestClient) -> None:
    _, first = await token_request(client, code=await code_for(client), expiring="1")
    r1 = first["refresh_token"]
    status, pair = await refresh(client, r1)  # (A2, R2)
    assert status == 200 and set(pair) == set(first) and pair["refresh_token"] != r1
    status, retry = await refresh(client, r1)  # the response was lost: R1 again, before R2 was used
    assert status == 200 and retry["refresh_token"] != pair["refresh_token"]
    assert await refresh(client, pair["refresh_token"]) == REVOKED  # the earlier R2 was replaced by the retry
    status, _ = await refresh(client, retry["refresh_token"])  # the current replacement used: R1 retires
    assert status == 200
    assert await refresh(client, r1) == REVOKED
    for access in (first["access_token"], pair["access_token"], retry["access_token"]):  # no revocation on refresh
        assert (await graphql_status(client, access))[0] == 200


async def test_refresh_chain_and_expiry(sb: ShopifySandbox, client: TestClient, clock: FakeClock) -> None:
    _, first = await token_request(client, code=await code_for(client), expiring="1")
    _, second = await refresh(client, first["refresh_token"])
    _, third = await refresh(client, second["refresh_token"])  # R2 used: R1 retired
    assert await refresh(client, first["refresh_token"]) == REVOKED
    status, third = await refresh(client, second["refresh_token"])  # R2 may still be retried: R3 unused
    assert status == 200
    assert await refresh(client, "shprt_unknown") == REVOKED
    clock.t += 3599
    assert (await graphql_status(client, first["access_token"]))[0] == 401
    sb.oauth_apps[CLIENT_ID].refresh_token_ttl_s = 5
    _, short = await refresh(client, third["refresh_token"])
    assert short["refresh_token_expires_in"] == 5
    clock.t += 5
    assert await refresh(client, short["refresh_token"]) == REVOKED
    assert [r["error"] for r in sb.token_requests[-2:]] == [None, "invalid_grant"]


# --- app configuration and uninstall -------------------------------------------------------------------------
APP_TOML = f'''
client_id = "{CLIENT_ID}"
name = "holdfast"
application_url = "https://ignored.example"

[access_scopes]
scopes = "write_orders, read_customers"

[auth]
redirect_urls = ["{CALLBACK}"]

[webhooks]
api_version = "2026-07"

[[webhooks.subscriptions]]
topics = ["app/uninstalled"]
compliance_topics = ["customers/data_request", "customers/redact", "shop/redact"]
uri = "/shopify/webhooks"
'''


@pytest.fixture
async def receiver():
    """(received requests, base URL) of the app's webhook endpoint."""
    received: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/shopify/webhooks", hook)
    async with TestServer(app) as server:
        yield received, str(server.make_url("")).rstrip("/")


def test_deploy_app_config(sb: ShopifySandbox, tmp_path: Any) -> None:
    path = tmp_path / "shopify.app.toml"
    path.write_text(APP_TOML)
    app = sb.deploy_app_config(path, client_secret="rotated", application_url="https://app.example/")
    assert app is sb.oauth_apps[CLIENT_ID] and app.client_secret == "rotated"
    assert app.scopes == {"write_orders", "read_customers"} and app.redirect_urls == [CALLBACK]
    subs = sorted((s.topic, s.callback_url, s.api_version) for s in sb.deliveries.app_subscriptions.values())
    assert subs == [(t, "https://app.example/shopify/webhooks", "2026-07") for t in (
        "APP_UNINSTALLED", "CUSTOMERS_DATA_REQUEST", "CUSTOMERS_REDACT", "SHOP_REDACT")]
    sb.deploy_app_config(APP_TOML.replace('"/shopify/webhooks"', '"https://hooks.example/x/"'),
                         client_secret="rotated", application_url="https://app.example")
    assert {s.callback_url for s in sb.deliveries.app_subscriptions.values()} == {"https://hooks.example/x"}
    assert len(sb.deliveries.app_subscriptions) == 4  # a deploy replaces the app's subscriptions


SUBSCRIBE = """mutation($url: URL!) { webhookSubscriptionCreate(topic: FULFILLMENT_ORDERS_PLACED_ON_HOLD,
  webhookSubscription: {callbackUrl: $url, format: JSON}) { webhookSubscription { id } userErrors { message } } }"""


async def test_uninstall_revokes_and_delivers_app_uninstalled(sb: ShopifySandbox, client: TestClient,
                                                              receiver: Any) -> None:
    received, base = receiver
    sb.deploy_app_config(APP_TOML, client_secret=SECRET, application_url=base)
    sb.oauth_apps[CLIENT_ID].scopes = frozenset(sb.scopes)  # everything, for webhookSubscriptionCreate
    sb.install_app(SHOP, CLIENT_ID)
    _, tokens = await token_request(client, code=await code_for(client), expiring="1")
    headers = {"X-Shopify-Access-Token": tokens["access_token"]}
    resp = await client.post(GRAPHQL, json={"query": SUBSCRIBE, "variables": {"url": base + "/shopify/webhooks"}},
                             headers=headers)
    assert (await resp.json())["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    assert [s.app for s in sb.webhook_subscriptions.values()] == [CLIENT_ID]

    assert await sb.uninstall_app(SHOP, CLIENT_ID) == 200
    assert not sb.installed(SHOP, CLIENT_ID) and sb.webhook_subscriptions == {}
    assert await graphql_status(client, tokens["access_token"]) == (401, {"errors": INVALID_TOKEN})
    assert await refresh(client, tokens["refresh_token"]) == REVOKED
    assert (await graphql_status(client, "shpat_static"))[0] == 200  # other apps keep their tokens
    raw, sent = received[-1]
    assert sent["X-Shopify-Topic"] == "app/uninstalled" and sent["X-Shopify-Shop-Domain"] == SHOP
    assert sent["X-Shopify-Hmac-Sha256"] == sign_shopify_webhook(SECRET, raw)  # the client secret, not the shop's
    assert sent["X-Shopify-API-Version"] == "2026-07"
    shop = json.loads(raw)
    assert shop["myshopify_domain"] == SHOP and shop["id"] == sb.shops[SHOP].legacy_id
    assert {"name", "email", "domain", "plan_name", "currency", "created_at", "updated_at"} <= set(shop)
    with pytest.raises(ValueError):
        await sb.uninstall_app(SHOP, CLIENT_ID)


async def test_installed_app_gets_its_webhooks_before_holding_a_token(sb: ShopifySandbox, receiver: Any) -> None:
    received, base = receiver
    sb.deploy_app_config(APP_TOML, client_secret=SECRET, application_url=base)
    with pytest.raises(ValueError):  # not installed: nobody to deliver shop/redact to
        await sb.deliver_webhook(SHOP, "shop/redact", {"shop_domain": SHOP})
    sb.install_app(SHOP, CLIENT_ID)
    assert await sb.deliver_webhook(SHOP, "shop/redact", {"shop_domain": SHOP}) == 200
    assert received[-1][1]["X-Shopify-Hmac-Sha256"] == sign_shopify_webhook(SECRET, received[-1][0])
    sb.register_app("quiet", "quiet-secret")
    sb.install_app(SHOP, "quiet")
    assert await sb.uninstall_app(SHOP, "quiet") is None  # subscribed to nothing
    assert await sb.uninstall_app(SHOP, CLIENT_ID) == 200
    with pytest.raises(ValueError):
        await sb.deliver_webhook(SHOP, "shop/redact", {"shop_domain": SHOP})
