"""Expiring tokens end to end: the client credentials grant under load, one renewal across processes, refresh
rotation, and what the operator is told when a grant is refused (bot/shopify/tokens.py against sandbox Shopify).

The sandbox's tokens expire on its own clock, with lifetimes set to seconds here so that expiry happens in the
middle of a burst (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant:
about 24 hours in production).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import update

from bot.cli.devstack import SHOP, DevStack
from bot.shopify.client import ShopUninstalled
from bot.shopify.tokens import Tokens
from sandbox.devserver import APP, CLIENT_ID, CLIENT_SECRET, SHOP_TOKEN
from storage import shops
from storage.db import make_engine, make_sessionmaker, transaction
from storage.models import Shop
from tests.e2e.conftest import STAFF


def revoke_issued_tokens(stack: DevStack) -> None:
    """Tokens holdfast holds stop working before their stated expiry (the sandbox forgets them)."""
    tokens = stack.shopify.shops[SHOP].tokens
    for token in [t for t, app in tokens.items() if app == APP and t != SHOP_TOKEN]:
        del tokens[token]


def grants(stack: DevStack, grant_type: str) -> list[dict]:
    return [r for r in stack.shopify.token_requests if r["grant_type"] == grant_type]


async def test_tokens_expiring_during_a_burst_of_orders_and_clicks_lose_and_double_nothing(database_url):
    # No renewal margin, and tokens that also die before their stated expiry (revoked in the middle of a wave):
    # calls get 401s and renew through them, besides the renewals of tokens holdfast knows have expired.
    async with DevStack(database_url=database_url, shopify_token_renew_margin_s=0) as stack:
        stack.shopify.oauth_apps[CLIENT_ID].client_credentials_ttl_s = 0.6
        orders = []
        for _ in range(3):  # three waves, each after the last token expired
            orders += [await stack.place_order(**STAFF) for _ in range(2)]
            await stack.settle()
            revoke_issued_tokens(stack)  # the token holdfast holds now dies early
            orders += [await stack.place_order(**STAFF) for _ in range(2)]
            await stack.settle()
            await asyncio.sleep(0.7)
        reqs = [await stack.request_for(o) for o in orders]
        for req in reqs[::2]:
            await stack.click(req, "request-approve", "U0ANA")
        await asyncio.sleep(0.7)
        for req in reqs[1::2]:
            await stack.click(req, "request-reject", "U0ANA")
        await stack.settle()
        assert await stack.jobs(status="dead") == []
        for order, req in zip(orders, reqs, strict=True):
            fos = stack.shopify.orders[order.gid].fulfillment_orders
            assert all(stack.shopify.hold_calls(fo.gid) == 1 for fo in fos)  # held once, never twice
            released = [stack.shopify.release_calls(fo.gid) for fo in fos]
            assert released == ([1] * len(fos) if req in reqs[::2] else [0] * len(fos))
        fetched = grants(stack, "client_credentials")
        assert 2 <= len(fetched) <= 12, fetched  # renewed as the tokens expired, not once per call
        assert all(r["status"] == 200 for r in fetched)
        assert any(c["status"] == 401 for c in stack.shopify.calls)  # the 401 path was taken, and recovered


async def test_two_processes_needing_a_token_at_once_make_one_grant(database_url):
    async with DevStack(database_url=database_url) as stack:
        others = []
        async with aiohttp.ClientSession() as http:
            for _ in range(2):  # two more processes: their own engine, their own Tokens, the same table
                engine = make_engine(database_url)
                others.append((engine, Tokens(sessions=make_sessionmaker(engine), keys=stack.rt.shopify.tokens.keys,
                                              http=lambda: http, oauth_url=stack.settings().shopify_oauth_url,
                                              client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                              install_url=stack.settings().install_url)))
            try:
                before = len(grants(stack, "client_credentials"))
                got = await asyncio.gather(stack.rt.shopify.tokens.get(SHOP), *(t.get(SHOP) for _, t in others))
                assert len(set(got)) == 1
                assert len(grants(stack, "client_credentials")) == before + 1
                # After a 401 on that token, both ask for a fresh one at once: one grant again, one new token.
                fresh = await asyncio.gather(*(t.fresh(SHOP, got[0]) for _, t in others))
                assert len(set(fresh)) == 1 and fresh[0] != got[0]
                assert len(grants(stack, "client_credentials")) == before + 2
            finally:
                for engine, _ in others:
                    await engine.dispose()


async def test_an_uninstall_without_its_webhook_is_found_at_the_next_call_and_named(database_url):
    # The app/uninstalled delivery never arrived (say the bot was down for days): the next call's 401 leads to a
    # grant Shopify refuses with app_not_installed; the job ends cancelled with the reason, and no more calls go out.
    async with DevStack(database_url=database_url, shopify_token_renew_margin_s=0) as stack:
        order = await stack.place_order(**STAFF)
        await stack.settle()
        req = await stack.request_for(order)
        stack.shopify.shops[SHOP].webhook_url = None  # nobody receives the uninstall
        stack.shopify.oauth.revoke(SHOP, stack.shopify.oauth_apps[CLIENT_ID])
        await stack.click(req, "request-approve", "U0ANA")
        await stack.settle()
        assert await stack.jobs(status="dead") == []
        cancelled = await stack.jobs(status="cancelled")
        assert cancelled and all("app_not_installed" in (j.last_error or "") for j in cancelled)
        async with stack.rt.sessions() as session:
            row = await session.get(Shop, 1)
        assert row.uninstalled_at is not None and "Dev Dashboard" in row.token_error
        calls = len(stack.shopify.token_requests)
        try:
            await stack.rt.shopify.tokens.get(SHOP)
            raise AssertionError("an uninstalled shop gave a token")
        except ShopUninstalled as exc:
            assert "uninstalled" in str(exc)
        assert len(stack.shopify.token_requests) == calls  # asked again only after shopify_uninstalled_retry_s


async def test_a_refused_refresh_token_names_the_reinstall_link(database_url):
    async with DevStack(database_url=database_url, public_url="https://holdfast.example.com") as stack:
        async with transaction(stack.rt.sessions) as session:  # an agency shop, installed with a code long ago
            await session.exec(update(Shop).where(Shop.domain == SHOP).values(
                grant_type=shops.AUTHORIZATION_CODE, access_token=None,
                refresh_token=stack.rt.shopify.tokens.keys.seal("shprt_never_issued")))
        stack.rt.shopify.tokens.forget(SHOP)
        order = await stack.place_order(**STAFF)
        await stack.settle()
        dead = await stack.jobs(status="dead")
        assert dead, "the order's job should stop: no grant can help"
        message = dead[0].last_error or ""
        assert "invalid_grant" in message and f"https://holdfast.example.com/shopify/install?shop={SHOP}" in message
        trail = await stack.audit_trail()
        assert any(e.kind == "job.dead" and "install" in e.data["error"] for e in trail)
        assert not stack.shopify.orders[order.gid].fulfillment_orders[0].holds


async def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(database_url):
    async with DevStack(database_url=database_url) as stack, aiohttp.ClientSession() as http:
        app = stack.shopify.oauth_apps[CLIENT_ID]
        pair = stack.shopify.oauth.offline(SHOP, app, expiring=True)  # as an install with expiring=1 gave it
        keys = stack.rt.shopify.tokens.keys
        async with transaction(stack.rt.sessions) as session:  # an agency shop whose 1-hour token has run out
            await session.exec(update(Shop).where(Shop.domain == SHOP).values(
                grant_type=shops.AUTHORIZATION_CODE, access_token=keys.seal(pair["access_token"]),
                token_expires_at=datetime.now(UTC) - timedelta(seconds=1),
                refresh_token=keys.seal(pair["refresh_token"])))
        engine = make_engine(database_url)
        try:
            other = Tokens(sessions=make_sessionmaker(engine), keys=keys, http=lambda: http,
                           oauth_url=stack.settings().shopify_oauth_url, client_id=CLIENT_ID,
                           client_secret=CLIENT_SECRET, install_url=stack.settings().install_url)
            stack.rt.shopify.tokens.forget(SHOP)
            got = await asyncio.gather(stack.rt.shopify.tokens.get(SHOP), other.get(SHOP), other.get(SHOP))
            assert len(set(got)) == 1 and got[0] != pair["access_token"]
            refreshes = grants(stack, "refresh_token")
            assert [r["status"] for r in refreshes] == [200]  # one refresh for three callers in two processes
            # The stored refresh token is the replacement, and it works: the next renewal succeeds too.
            fresh = await other.fresh(SHOP, got[0])
            assert fresh != got[0] and [r["status"] for r in grants(stack, "refresh_token")] == [200, 200]
            # Once the replacement was used, the first refresh token is retired: reusing it is refused.
            async with http.post(f"{stack.settings().shopify_oauth_url.format(shop=SHOP)}/access_token", data={
                    "grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                    "refresh_token": pair["refresh_token"]}) as resp:
                assert resp.status == 400 and (await resp.json())["error"] == "invalid_grant"
        finally:
            await engine.dispose()
