"""`holdfast doctor`'s Shopify checks, per shop: a token can be had, the granted scopes cover the declared ones, the
API version served is the pinned one, the webhook subscriptions exist, protected customer data is granted.

The shops are those `holdfast serve` serves: your own stores (SHOPIFY_SHOP, client credentials), legacy ones
(SHOPIFY_SHOPS) and those installed through /shopify/install (the shop table). The Admin API is asked directly,
not through ShopifyClient: the doctor wants the raw answer (status, X-Shopify-API-Version, the errors next to
the data) that the client turns into retries and warnings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.cli.doctor_checks import Check, failed, passed, split_sentence, warned
from bot.cli.doctor_shopify_fixes import scope_fix, token_refused_fix
from bot.clock import utcnow
from bot.settings import Settings
from bot.shopify import app_config
from bot.shopify import documents as gql
from bot.shopify.client import only_protected_data  # the client's own test for the protected-data refusal
from bot.shopify.errors import ShopifyError
from bot.shopify.oauth import GrantRefused, operator_hint, request_grant
from bot.shopify.scopes import ACCESS_SCOPES
from bot.shopify.versions import HEADER as VERSION_HEADER
from storage import shops as shop_rows

PROBE_CUSTOMER = "gid://shopify/Customer/1"  # need not exist: Shopify checks access before it looks the id up
VERSIONING = "https://shopify.dev/docs/api/usage/versioning"


@dataclass(frozen=True)
class Reply:
    status: int
    version: str | None  # the X-Shopify-API-Version header: the version that actually answered
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        return self.body.get("data") or {}

    @property
    def errors(self) -> list[Any]:
        errors = self.body.get("errors")
        return errors if isinstance(errors, list) else [{"message": errors}] if errors else []


class Admin:
    """One shop's Admin GraphQL endpoint at the pinned version, on one token."""

    def __init__(self, http: aiohttp.ClientSession, settings: Settings, shop: str, token: str):
        self.http, self.token = http, token
        self.url = settings.shopify_admin_url.format(shop=shop, version=settings.shopify_api_version)
        self.timeout = aiohttp.ClientTimeout(total=settings.shopify_timeout_s)

    async def ask(self, document: str, name: str, variables: dict[str, Any] | None = None) -> Reply:
        async with self.http.post(self.url, json={"query": document, "variables": variables or {},
                                                  "operationName": name},
                                  headers={"X-Shopify-Access-Token": self.token}, timeout=self.timeout) as resp:
            text = await resp.text()
            try:
                body = json.loads(text) if text else {}
            except json.JSONDecodeError:
                body = {}
            return Reply(resp.status, resp.headers.get(VERSION_HEADER), body if isinstance(body, dict) else {})


async def _shops(settings: Settings, database_ok: bool) -> tuple[list[tuple[str, str]], Check | None]:
    """(shop, grant type) for every shop served, and a warning when the database could not list the installed ones."""
    found = {s: shop_rows.CLIENT_CREDENTIALS for s in settings.own_shops()}
    for shop in settings.shops():
        found.setdefault(shop, shop_rows.LEGACY)  # a shop in both moved to the Dev Dashboard app: its credentials win
    if not database_ok:
        return list(found.items()), warned("Shopify", "installed shops", "not listed: the database is not usable",
                                           "fix the database check above and run `holdfast doctor` again")
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            for shop in await shop_rows.served_shops(session):
                if shop not in found:
                    found[shop] = await shop_rows.grant_type(session, domain=shop) or shop_rows.AUTHORIZATION_CODE
    finally:
        await engine.dispose()
    return list(found.items()), None


async def _token(http: aiohttp.ClientSession, settings: Settings, shop: str, grant: str) -> tuple[str | None, Check]:
    """A token for the shop, got as holdfast gets it; (None, the failed check) when it cannot be had."""
    group = f"Shopify {shop}"
    if grant == shop_rows.LEGACY:
        return settings.shops()[shop], passed(group, "token", "the static token from SHOPIFY_SHOPS (legacy)")
    if grant == shop_rows.CLIENT_CREDENTIALS:
        if not (settings.shopify_client_id and settings.shopify_client_secret.get_secret_value()):
            return None, failed(group, "token", "SHOPIFY_CLIENT_ID or SHOPIFY_CLIENT_SECRET is not set",
                                "copy both from the Dev Dashboard (your app → Settings)")
        form = {"client_id": settings.shopify_client_id, "grant_type": "client_credentials",
                "client_secret": settings.shopify_client_secret.get_secret_value()}
        try:
            url = settings.shopify_oauth_url.rstrip("/").format(shop=shop) + "/access_token"
            granted = await request_grant(http, shop=shop, url=url, form=form, now=utcnow(),
                                          timeout_s=settings.shopify_timeout_s)
        except GrantRefused as exc:
            what, fix = split_sentence(operator_hint(exc, grant_type=grant, install_url=settings.install_url(shop)))
            return None, failed(group, "token", what.removeprefix(f"{shop}: "), fix)
        except ShopifyError as exc:
            return None, failed(group, "token", str(exc).removeprefix(f"{shop}: "),
                                "check SHOPIFY_OAUTH_URL and the network, then run it again")
        return granted.access_token, passed(group, "token", "client credentials grant: a new token was issued")
    return await _stored_token(http, settings, shop, group)


async def _stored_token(http: aiohttp.ClientSession, settings: Settings, shop: str,
                        group: str) -> tuple[str | None, Check]:
    # An installed shop's token lives in the shop table with its refresh token, which Shopify replaces at every
    # use: only Tokens may renew it (it stores the new pair under the shop's lease).
    from bot.shopify.tokens import Tokens
    from storage.db import make_engine, make_sessionmaker
    from storage.secrets import Keyring, SecretKeyError

    engine = make_engine(settings.database_url)
    try:
        keys = Keyring(current=settings.secret_key.get_secret_value(), previous=settings.previous_secret_keys())
        tokens = Tokens(sessions=make_sessionmaker(engine), keys=keys, http=lambda: http,
                        oauth_url=settings.shopify_oauth_url.rstrip("/"), client_id=settings.shopify_client_id,
                        client_secret=settings.shopify_client_secret.get_secret_value(),
                        install_url=settings.install_url, renew_margin_s=settings.shopify_token_renew_margin_s,
                        timeout_s=settings.shopify_timeout_s, retry_uninstalled_s=settings.shopify_uninstalled_retry_s)
        token = await tokens.get(shop)
    except (ShopifyError, SecretKeyError) as exc:
        what, fix = split_sentence(str(exc))
        return None, failed(group, "token", what.removeprefix(f"{shop}: "), fix)
    finally:
        await engine.dispose()
    return token, passed(group, "token", "the stored token of the install (renewed when due)")


def _scopes(group: str, reply: Reply, grant: str, settings: Settings, shop: str) -> Check:
    handles = {s.get("handle") for s in (reply.data.get("currentAppInstallation") or {}).get("accessScopes") or []}
    # "Any scope that writes a resource also grants read access to it"
    # (https://shopify.dev/docs/api/usage/access-scopes)
    have = handles | {"read_" + h.removeprefix("write_") for h in handles if h and h.startswith("write_")}
    missing = [s for s in ACCESS_SCOPES if s not in have]
    if reply.errors and not handles:
        return failed(group, "scopes", f"Shopify did not say: {reply.errors[0].get('message')}",
                      scope_fix(grant, settings, shop))
    if missing:
        return failed(group, "scopes", f"not granted: {', '.join(missing)} (shopify.app.toml declares them)",
                      scope_fix(grant, settings, shop))
    return passed(group, "scopes", f"all {len(ACCESS_SCOPES)} declared scopes granted")


def _version(group: str, reply: Reply, pinned: str) -> Check:
    if reply.version is None:
        return warned(group, "API version", f"Shopify did not say which version answered ({VERSION_HEADER})")
    if reply.version != pinned:
        return failed(group, "API version", f"Shopify answered in {reply.version}, not the pinned {pinned}: it serves "
                                            "a retired version as the oldest one it supports",
                      f"set HOLDFAST_SHOPIFY_API_VERSION to a supported version ({reply.version} or newer, "
                      f"{VERSIONING})")
    return passed(group, "API version", f"{pinned}, as pinned")


async def _webhooks(group: str, admin: Admin, grant: str, settings: Settings) -> Check:
    if settings.poll:
        return passed(group, "webhooks", f"poll mode: reconciliation reads Shopify every {settings.poll_every_s:g}s")
    # As the hourly webhook check decides (bot/features/upkeep/service.py): an installed shop gets the app-scoped
    # subscriptions of shopify.app.toml, which the webhookSubscriptions query does not list.
    declared = app_config.load().topic_enums() if grant == shop_rows.AUTHORIZATION_CODE else frozenset()
    needed = [t for t in settings.webhook_topic_list() if t not in declared]
    if not needed:
        return passed(group, "webhooks", "app-scoped subscriptions from shopify.app.toml")
    base = settings.public_url.strip().rstrip("/")
    if not base:
        return failed(group, "webhooks", "HOLDFAST_PUBLIC_URL is not set, so Shopify has nowhere to send webhooks",
                      "set HOLDFAST_PUBLIC_URL to holdfast's public https URL, or run `holdfast serve --poll`")
    callback, have, cursor = f"{base}/shopify/webhooks", set(), None
    while True:
        reply = await admin.ask(gql.WEBHOOK_SUBSCRIPTIONS, "WebhookSubscriptions", {"first": 50, "after": cursor})
        if reply.errors or reply.status != 200:
            return failed(group, "webhooks", f"cannot list them (HTTP {reply.status}"
                                             f"{': ' + str(reply.errors[0].get('message')) if reply.errors else ''})",
                          "run `holdfast doctor` again; if it persists, see the token and scopes checks")
        conn = reply.data.get("webhookSubscriptions") or {}
        have |= {n.get("topic") for n in conn.get("nodes") or [] if n.get("uri") == callback}
        page = conn.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        cursor = page.get("endCursor")
    missing = [t for t in needed if t not in have]
    if missing:
        return failed(group, "webhooks", f"no subscription to {callback} for {', '.join(missing)}",
                      "start `holdfast serve` (its webhook check subscribes them at start and every hour); if they go "
                      f"missing again, Shopify could not deliver to {callback} and deleted them")
    return passed(group, "webhooks", f"all {len(needed)} topics subscribed to {callback}")


async def _customer_data(group: str, admin: Admin) -> Check:
    reply = await admin.ask(gql.CUSTOMER_DATA_PROBE, "CustomerDataProbe", {"customer": PROBE_CUSTOMER})
    fix = ("request access to protected customer data (and the name, email and address fields) in the app's "
           "settings (Dev Dashboard → your app → API access), then install the new version")
    if reply.errors and only_protected_data(reply.errors, reply.data):
        refused = sorted({str(e.get("message", "")).split(" object")[0].rsplit(" ", 1)[-1] for e in reply.errors})
        return failed(group, "customer data", f"not granted: Shopify refuses {', '.join(refused)} (names and emails "
                                              "would read as empty)", fix)
    if reply.errors:
        return failed(group, "customer data", f"cannot tell: {reply.errors[0].get('message')}",
                      "see the scopes check above (read_customers)")
    if (reply.data.get("orders") or {}).get("nodes"):
        return passed(group, "customer data", "granted: customers, their names and emails are readable")
    return passed(group, "customer data", "granted for customers; names and emails not checked: no order yet")


SKIPPED = "; scopes, API version, webhooks and customer data not checked"


async def shop_checks(http: aiohttp.ClientSession, settings: Settings, shop: str, grant: str) -> list[Check]:
    """The five checks of one shop; a token that cannot be had or is refused leaves the others out (Shopify would
    refuse them all), and says so."""
    group = f"Shopify {shop}"
    token, check = await _token(http, settings, shop, grant)
    if token is None:
        return [failed(group, check.name, check.detail + SKIPPED, check.fix)]
    admin = Admin(http, settings, shop, token)
    try:
        reply = await admin.ask(gql.APP_ACCESS_SCOPES, "AppAccessScopes")
        if reply.status == 401:
            return [failed(group, "token", "the Admin API refused the token (HTTP 401)" + SKIPPED,
                           token_refused_fix(grant, settings, shop))]
        if reply.status == 404:
            return [check, failed(group, "API version", f"no Admin API version {settings.shopify_api_version} "
                                                        "here, or no such shop (HTTP 404)",
                                  f"set HOLDFAST_SHOPIFY_API_VERSION to a supported version ({VERSIONING})")]
        return [check, _scopes(group, reply, grant, settings, shop),
                _version(group, reply, settings.shopify_api_version),
                await _webhooks(group, admin, grant, settings), await _customer_data(group, admin)]
    except (TimeoutError, aiohttp.ClientError) as exc:
        return [check, failed(group, "Admin API", f"cannot reach {admin.url} ({type(exc).__name__})",
                              "check SHOPIFY_ADMIN_URL and the network, then run it again")]


async def shopify_checks(settings: Settings, *, database_ok: bool) -> list[Check]:
    """Every served shop's checks; a warning when there is no shop at all."""
    shops, warning = await _shops(settings, database_ok)
    out = [warning] if warning else []
    if not shops:
        return out + [warned("Shopify", "shops", "no shop configured or installed",
                             "set SHOPIFY_SHOP=your-store.myshopify.com, or install the app through /shopify/install")]
    async with aiohttp.ClientSession() as http:
        for shop, grant in shops:
            out += await shop_checks(http, settings, shop, grant)
    return out
