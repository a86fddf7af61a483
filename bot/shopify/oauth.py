"""Shopify's token endpoint: the three grants holdfast uses, and what their answers mean to the operator.

All go to `POST https://{shop}/admin/oauth/access_token` (a form body) and answer a JSON token, or a 4xx with an
OAuth `error` code:
- client credentials, for the merchant's own store: `grant_type=client_credentials` → a token valid about 24 hours
  (`expires_in` 86399), no refresh token
  (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant,
  https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets);
- authorization code, after /shopify/install: `code=…&expiring=1` → an expiring offline token (1 hour) with a refresh
  token (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant,
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens);
- refresh: `grant_type=refresh_token` → a new pair; the refresh token is replaced at every use
  (https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.shopify.client import ShopifyError, ShopifyTransientError


@dataclass(frozen=True)
class Grant:
    """A token Shopify granted, with its refresh token (expiring offline tokens only); repr() shows no token."""

    access_token: str = field(repr=False)
    expires_at: datetime | None
    refresh_token: str | None = field(repr=False)
    refresh_expires_at: datetime | None
    scope: str | None


class GrantRefused(ShopifyError):
    """The token endpoint said no (a 4xx with an OAuth error code); retrying the same request will not help."""

    def __init__(self, shop: str, error: str, description: str, status: int):
        super().__init__(f"{shop}: Shopify refused the token request ({error}: {description})")
        self.shop, self.error, self.description, self.status = shop, error, description, status


def _at(now: datetime, seconds: Any) -> datetime | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError(f"expires_in is not a positive number: {seconds!r}")
    return now + timedelta(seconds=float(seconds))


def parse_grant(body: Any, *, now: datetime) -> Grant:
    """The token in a 200 answer (ValueError when it is not one): expiries become datetimes from `now`."""
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise ValueError("the answer carries no access_token")
    refresh = body.get("refresh_token")
    if refresh is not None and not isinstance(refresh, str):
        raise ValueError("refresh_token is not a string")
    return Grant(body["access_token"], _at(now, body.get("expires_in")), refresh or None,
                 _at(now, body.get("refresh_token_expires_in")) if refresh else None,
                 body.get("scope") if isinstance(body.get("scope"), str) else None)


def operator_hint(refused: GrantRefused, *, grant_type: str, install_url: str) -> str:
    """One sentence for the operator: what the refusal means and what to do (kept on the job and the shop row)."""
    shop, error = refused.shop, refused.error
    if error == "invalid_client":
        return (f"{shop}: Shopify refused SHOPIFY_CLIENT_ID / SHOPIFY_CLIENT_SECRET (invalid_client): copy both "
                "again from the Dev Dashboard (your app → Settings)")
    if error == "app_not_installed":
        return (f"{shop}: the app is not installed on this store (app_not_installed): install it from the Dev "
                "Dashboard (your app → Home → Install app); holdfast fetches a token again by itself")
    if error == "shop_not_permitted":
        return (f"{shop}: this store is not in the app's own organization, so client credentials cannot be used "
                f"(shop_not_permitted): remove it from SHOPIFY_SHOP and have the merchant open {install_url}")
    if grant_type == "authorization_code":
        return (f"{shop}: Shopify refused the stored refresh token ({error}: {refused.description}): the merchant "
                f"must install the app again: open {install_url}")
    return str(refused)


async def request_grant(http: aiohttp.ClientSession, *, shop: str, url: str, form: dict[str, str], now: datetime,
                        timeout_s: float) -> Grant:
    """POST a token request; GrantRefused on a 4xx, ShopifyTransientError when Shopify could not answer."""
    try:
        async with http.post(url, data=form, headers={"Accept": "application/json"},
                             timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            status, text = resp.status, await resp.text()
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise ShopifyTransientError(f"{shop}: token request failed: {type(exc).__name__}: {exc}".rstrip(": "))
    try:
        body = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = None
    if status == 429 or status >= 500:
        raise ShopifyTransientError(f"{shop}: token request answered HTTP {status}; will try again")
    if status != 200:
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        raise GrantRefused(shop, str(error or f"HTTP {status}"), str(description or text[:200] or "no reason given"),
                           status)
    try:
        return parse_grant(body, now=now)
    except ValueError as exc:
        raise ShopifyTransientError(f"{shop}: token request answered 200 without a token ({exc})") from None
