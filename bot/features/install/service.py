"""Installing holdfast on a store of another organization: the authorization code grant.

https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant:
1. `GET /shopify/install?shop=…` checks the shop's hostname and sends the merchant to the shop's authorize page with
   the app's scopes, the redirect URI and a `state` nonce; the nonce is also set in a signed cookie, so the callback
   can tell it comes back to the browser that started the install.
2. Shopify redirects to `GET /shopify/callback?code=…&hmac=…&host=…&shop=…&state=…&timestamp=…`. The query's HMAC,
   the state and the shop's hostname are checked ("the app must … verify the hmac … the nonce … the hostname is a
   valid shop hostname" in the same page), then the code is exchanged for an expiring offline token and its refresh
   token (`expiring=1`, https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens).

ShopifyAPI's session helpers build the authorize URL and check the callback's HMAC (`shopify.Session`, configured
on a subclass so the library's class-wide settings stay untouched); the token request goes over aiohttp.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import shopify

from bot.settings import Settings
from bot.shopify.scopes import ACCESS_SCOPES

COOKIE = "holdfast_install"
STATE_TTL_S = 600  # the merchant has ten minutes between the install link and approving
# "ends with myshopify.com and does not contain characters other than letters (a-z), numbers (0-9), periods, and
# hyphens" (the authorization code grant page, step 2: security checks).
_SHOP = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")


def valid_shop(shop: str | None) -> str | None:
    """The shop's myshopify domain (lower case), or None when it is not one."""
    shop = (shop or "").strip().lower()
    return shop if _SHOP.fullmatch(shop) else None


def redirect_uri(settings: Settings) -> str:
    """Where Shopify sends the merchant back (listed under [auth] redirect_urls in shopify.app.toml)."""
    return f"{settings.public_url.rstrip('/')}/shopify/callback"


def _session_class(settings: Settings) -> type[shopify.Session]:
    return type("HoldfastSession", (shopify.Session,), {
        "api_key": settings.shopify_client_id, "secret": settings.shopify_client_secret.get_secret_value()})


def _sign(settings: Settings, text: str) -> str:
    key = settings.shopify_client_secret.get_secret_value().encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Start:
    """Where to send the merchant, and the cookie that binds the state to their browser."""

    authorize_url: str
    cookie: str


def start(settings: Settings, *, shop: str, now: datetime) -> Start:
    """The redirect to the shop's authorize page (scopes, redirect URI, a fresh state nonce)."""
    nonce = secrets.token_urlsafe(24)
    issued = int(now.timestamp())
    url = _session_class(settings)(shop, settings.shopify_api_version).create_permission_url(
        list(ACCESS_SCOPES), redirect_uri(settings), state=nonce)
    # The library points at https://{shop}/admin/oauth/authorize; SHOPIFY_OAUTH_URL may stand in for it (the sandbox).
    authorize = settings.shopify_oauth_url.format(shop=shop).rstrip("/") + "/authorize?" + urlsplit(url).query
    return Start(authorize, f"{nonce}:{issued}:{_sign(settings, f'{shop}:{nonce}:{issued}')}")


def check_callback(settings: Settings, query: dict[str, str], cookie: str | None, *, now: datetime) -> tuple[int, str] | None:
    """(HTTP status, why) the callback must be refused, or None when its shop, HMAC and state all hold. A query
    that is not Shopify's (its HMAC) is 403; one that does not belong to this browser's install, 400."""
    restart = "open the install link again"
    shop = valid_shop(query.get("shop"))
    if shop is None:
        return 400, f"`shop` is not a *.myshopify.com domain ({(query.get('shop') or 'missing')[:80]!r}): {restart}"
    if not query.get("code"):
        return 400, f"the callback carries no authorization code: {restart}"
    # validate_params: the HMAC over the other parameters, compared in constant time, and a timestamp < 24 h old.
    if not _session_class(settings).validate_params(dict(query)):
        return 403, "the query's hmac does not verify with SHOPIFY_CLIENT_SECRET (or it is older than a day)"
    nonce, _, rest = (cookie or "").partition(":")
    issued, _, signature = rest.partition(":")
    if not cookie or not issued.isdigit():
        return 400, f"this browser did not start an install (no {COOKIE} cookie): {restart}"
    if not hmac.compare_digest(signature, _sign(settings, f"{shop}:{nonce}:{issued}")):
        return 400, f"the install was started for another shop, or its cookie was altered: {restart}"
    if not hmac.compare_digest(nonce, query.get("state") or ""):
        return 400, f"`state` does not match the one this browser was given: {restart}"
    if now.timestamp() - int(issued) > STATE_TTL_S:
        return 400, f"the install was started more than {STATE_TTL_S // 60} minutes ago: {restart}"
    return None


def code_form(settings: Settings, code: str) -> dict[str, str]:
    """The token request for an authorization code: an expiring offline token with its refresh token."""
    return {"client_id": settings.shopify_client_id, "client_secret": settings.shopify_client_secret.get_secret_value(),
            "code": code, "expiring": "1"}


def missing_scopes(granted: str | None) -> list[str]:
    """The declared scopes Shopify did not grant (a write scope grants its read scope too)."""
    have = {s.strip() for s in (granted or "").split(",") if s.strip()}
    have |= {"read_" + s.removeprefix("write_") for s in have if s.startswith("write_")}
    return [s for s in ACCESS_SCOPES if s not in have]
