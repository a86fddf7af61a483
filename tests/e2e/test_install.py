"""Installing on another organization's store (the authorization code grant), uninstalling, and installing again,
over real HTTP: the bot's /shopify/install and /shopify/callback, sandbox Shopify's authorize page (a merchant
who approves at once) and token endpoint, and app-scoped webhooks from the deployed shopify.app.toml.

https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from sqlmodel import select

from bot.cli.devstack import SHOP, DevStack
from bot.features.install.service import COOKIE
from bot.jobs import scheduler
from bot.shopify.scopes import ACCESS_SCOPES
from sandbox.devserver import CLIENT_ID, CLIENT_SECRET
from storage import requests
from storage.models import AuditEvent, Shop
from tests.e2e.conftest import STAFF

AGENCY = "agency-client.myshopify.com"  # a store of another organization
PUBLIC = "https://holdfast.example.com"  # shopify.app.toml's URLs
TOML = (Path(__file__).resolve().parents[2] / "shopify.app.toml").read_text()


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url, public_url=PUBLIC) as s:
        s.shopify.add_shop(AGENCY, access_token="shpat_merchant_own_admin", app="merchant-admin")
        # `shopify app deploy`: redirect URLs, scopes and the app-scoped subscriptions of the app configuration.
        s.shopify.deploy_app_config(TOML.replace("REPLACE_WITH_YOUR_CLIENT_ID", CLIENT_ID),
                                    client_secret=CLIENT_SECRET, application_url=s.bot_url)
        s.shopify.oauth_apps[CLIENT_ID].access_token_ttl_s = 1.0  # expiring offline tokens, expiring in the test
        yield s


async def begin(stack: DevStack, http: aiohttp.ClientSession, shop: str = AGENCY) -> tuple[dict[str, str], str]:
    """Open the install link and let the merchant approve: (the callback's query, the state cookie)."""
    start = await http.get(f"{stack.bot_url}/shopify/install", params={"shop": shop}, allow_redirects=False)
    assert start.status == 302, await start.text()
    authorize = start.headers["Location"]
    assert authorize.startswith(f"http://127.0.0.1:{stack.shopify_port}/{shop}/admin/oauth/authorize?")
    asked = dict(parse_qsl(urlsplit(authorize).query))
    assert asked["client_id"] == CLIENT_ID and asked["redirect_uri"] == f"{PUBLIC}/shopify/callback"
    assert asked["scope"].split(",") == list(ACCESS_SCOPES)
    approved = await http.get(authorize, allow_redirects=False)
    assert approved.status == 302, await approved.text()
    back = approved.headers["Location"]
    assert back.startswith(f"{PUBLIC}/shopify/callback?")
    query = dict(parse_qsl(urlsplit(back).query))
    assert query["state"] == asked["state"]
    return query, start.cookies[COOKIE].value


async def finish(stack: DevStack, http: aiohttp.ClientSession, query: dict[str, str], cookie: str | None):
    cookies = {COOKIE: cookie} if cookie else {}
    resp = await http.get(f"{stack.bot_url}/shopify/callback", params=query, cookies=cookies)
    return resp.status, await resp.text()


async def agency_row(stack: DevStack) -> Shop | None:
    async with stack.rt.sessions() as session:
        return (await session.exec(select(Shop).where(Shop.domain == AGENCY))).first()


async def test_install_then_orders_are_held_with_refreshed_tokens(stack):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        query, cookie = await begin(stack, http)
        status, page = await finish(stack, http, query, cookie)
    assert status == 200, page
    assert f"holdfast is installed on {AGENCY}" in page
    row = await agency_row(stack)
    assert row.grant_type == "authorization_code" and row.refresh_token and row.token_expires_at
    assert row.access_token.startswith("gAAAAA") and row.refresh_token.startswith("gAAAAA")  # sealed at rest
    exchange = [r for r in stack.shopify.token_requests if r["shop"] == AGENCY]
    assert [r["grant_type"] for r in exchange] == ["authorization_code"]

    # Orders arrive through the app-scoped subscription; the 1 s tokens expire and are refreshed as they go.
    orders = []
    for _ in range(3):
        created = stack.shopify.create_order(AGENCY, **STAFF)
        assert await stack.shopify.deliver_webhook(AGENCY, "orders/create", created.webhook_body()) == 200
        orders.append(created)
        await stack.settle()
        await asyncio.sleep(1.1)
    assert await stack.jobs(status="dead") == []
    for order in orders:
        assert all(stack.shopify.hold_calls(fo.gid) == 1 for fo in stack.shopify.orders[order.gid].fulfillment_orders)
    refreshes = [r for r in stack.shopify.token_requests if r["shop"] == AGENCY and r["grant_type"] == "refresh_token"]
    assert refreshes and all(r["status"] == 200 for r in refreshes)  # each rotation succeeded: none reused

    # No shop-scoped copies of the app-scoped subscriptions (they would deliver every order twice).
    await scheduler.run_period(stack.rt, next(s for s in scheduler.periodic_jobs(stack.rt.settings)
                                              if s.name == "webhook-check"))
    await stack.settle()
    assert [s for s in stack.shopify.webhook_subscriptions.values() if s.shop == AGENCY] == []


@pytest.mark.parametrize("tamper", ["hmac", "state", "host", "cookie"])
async def test_a_callback_that_does_not_check_out_is_refused_and_changes_nothing(stack, tamper):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        query, cookie = await begin(stack, http)
        if tamper == "hmac":
            query["code"] = query["code"][:-1] + ("x" if query["code"][-1] != "x" else "y")
        elif tamper == "state":
            _, cookie = await begin(stack, http)  # the cookie of another install (another browser's nonce)
        elif tamper == "host":
            query["shop"] = "agency-client.evil.example.com"
        else:
            cookie = None
        status, page = await finish(stack, http, query, cookie)
    assert status in (400, 403), page
    assert "refused" in page.lower()
    assert await agency_row(stack) is None
    assert [r for r in stack.shopify.token_requests if r["shop"] == AGENCY] == []


async def test_a_foreign_shop_host_gets_no_redirect(stack):
    async with aiohttp.ClientSession() as http:
        resp = await http.get(f"{stack.bot_url}/shopify/install", params={"shop": "evil.example.com"},
                              allow_redirects=False)
        assert resp.status == 400 and "myshopify.com" in await resp.text()


async def test_uninstall_tells_the_approvers_stops_the_jobs_and_a_reinstall_resumes(stack):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        query, cookie = await begin(stack, http)
        assert (await finish(stack, http, query, cookie))[0] == 200
        order = stack.shopify.create_order(AGENCY, **STAFF)
        assert await stack.shopify.deliver_webhook(AGENCY, "orders/create", order.webhook_body()) == 200
        await stack.settle()
        async with stack.rt.sessions() as session:
            req = await requests.by_order(session, shop=AGENCY, order_gid=order.gid)
        assert req.message_ts

        assert await stack.shopify.uninstall_app(AGENCY, CLIENT_ID) == 200  # app/uninstalled, app-scoped
        await stack.settle()
        row = await agency_row(stack)
        assert row.uninstalled_at is not None and row.access_token is None and row.refresh_token is None
        thread = [m.text for m in stack.slack.messages[req.channel] if m.thread_ts == req.message_ts]
        assert any("uninstalled from agency-client.myshopify.com; the holds stay in Shopify" in t for t in thread)
        async with stack.rt.sessions() as session:
            kinds = [e.kind for e in (await session.exec(select(AuditEvent))).all() if e.shop_domain == AGENCY]
        assert "shop.uninstalled" in kinds and "request.app_uninstalled" in kinds
        assert all(fo.holds for fo in stack.shopify.orders[order.gid].fulfillment_orders)  # the holds stay

        requests_before = len(stack.shopify.token_requests)
        await stack.click(req, "request-approve", "U0ANA")
        await stack.settle()
        assert await stack.jobs(status="dead") == []
        assert any(j.kind == "shopify.release" for j in await stack.jobs(status="cancelled"))
        assert len(stack.shopify.token_requests) == requests_before  # no refresh tried for an uninstalled shop

        query, cookie = await begin(stack, http)  # the merchant installs again
        status, page = await finish(stack, http, query, cookie)
    assert status == 200 and "installed again" in page
    row = await agency_row(stack)
    assert row.uninstalled_at is None and row.refresh_token
    again = stack.shopify.create_order(AGENCY, **STAFF)
    assert await stack.shopify.deliver_webhook(AGENCY, "orders/create", again.webhook_body()) == 200
    await stack.settle()
    assert all(stack.shopify.hold_calls(fo.gid) == 1 for fo in stack.shopify.orders[again.gid].fulfillment_orders)


async def test_own_store_uninstall_and_reinstall_from_the_dev_dashboard(database_url):
    async with DevStack(database_url=database_url) as stack:
        order = await stack.place_order(**STAFF)
        await stack.settle()
        assert await stack.shopify.uninstall_app(SHOP, CLIENT_ID) == 200  # to the shop's own subscription
        await stack.settle()
        req = await stack.request_for(order)
        assert any("the holds stay in Shopify" in m.text for m in stack.slack.messages[req.channel]
                   if m.thread_ts == req.message_ts)
        stack.shopify.install_app(SHOP, CLIENT_ID)  # reinstalled from the Dev Dashboard: Shopify tells no one
        stack.overrides["shopify_uninstalled_retry_s"] = 0  # (300 s by default) ask Shopify again at once
        await stack.stop_bot()
        await stack.start_bot()
        again = await stack.place_order(**STAFF)
        await stack.settle()
        assert all(stack.shopify.hold_calls(fo.gid) == 1 for fo in stack.shopify.orders[again.gid].fulfillment_orders)
        assert await stack.jobs(status="dead") == []


async def test_an_uninstall_naming_another_shop_is_refused(database_url):
    async with DevStack(database_url=database_url) as stack:
        status = await stack.shopify.deliver_webhook(SHOP, "app/uninstalled", {"myshopify_domain": AGENCY})
        assert status == 400
        await stack.place_order(**STAFF)
        await stack.settle()
        async with stack.rt.sessions() as session:
            row = (await session.exec(select(Shop).where(Shop.domain == SHOP))).first()
        assert row.uninstalled_at is None and row.access_token
