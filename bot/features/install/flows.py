"""The install callback's work once its checks passed: exchange the code, store the tokens, audit the install."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.features.install import service
from bot.runtime import Runtime
from bot.shopify.client import ShopifyTransientError
from bot.shopify.oauth import GrantRefused, request_grant
from bot.shopify.tokens import Tokens
from storage import audit, shops
from storage.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Installed:
    """What the merchant's page says: the shop, whether it was installed before, scopes Shopify left out."""

    shop: str
    reinstalled: bool
    missing_scopes: list[str]


class InstallFailed(Exception):
    """The code could not be exchanged; the message says why and what to do (the page shows it)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


async def complete(rt: Runtime, *, shop: str, code: str) -> Installed:
    """Exchange the authorization code for an expiring offline token and store it sealed, in one transaction with
    its audit event; InstallFailed when Shopify refuses the code or cannot answer."""
    settings = rt.settings
    http = rt.shopify.session
    if http is None:
        raise InstallFailed("holdfast is starting: open the install link again in a moment", 503)
    url = settings.shopify_oauth_url.format(shop=shop).rstrip("/") + "/access_token"
    try:
        grant = await request_grant(http, shop=shop, url=url, form=service.code_form(settings, code),
                                    now=rt.now(), timeout_s=settings.shopify_timeout_s)
    except GrantRefused as exc:  # a used or expired code, or the wrong client secret
        raise InstallFailed(f"Shopify refused the authorization code ({exc.error}: {exc.description}): open the "
                            "install link again", 400) from None
    except ShopifyTransientError as exc:
        raise InstallFailed(f"Shopify did not answer the token request ({exc}): open the install link again", 502) \
            from None
    tokens = rt.shopify.tokens
    assert isinstance(tokens, Tokens), "the runtime's token source is the shop table's"
    async with transaction(rt.sessions) as session:
        reinstalled = await shops.save_grant(
            session, domain=shop, grant_type=shops.AUTHORIZATION_CODE, token=grant.access_token,
            expires_at=grant.expires_at, refresh_token=grant.refresh_token, refresh_expires_at=grant.refresh_expires_at,
            scopes=grant.scope, now=rt.now(), keys=tokens.keys)
        await audit.append(session, at=rt.now(), actor="shopify", kind="shop.installed", shop_domain=shop,
                           data={"grant": shops.AUTHORIZATION_CODE, "scopes": grant.scope, "reinstalled": reinstalled,
                                 "expiring": grant.expires_at is not None})
    tokens.forget(shop)  # this process's cache held the old shop's token, if any
    missing = service.missing_scopes(grant.scope)
    log.info("%s: installed (authorization code grant%s)%s", shop, ", again" if reinstalled else "",
             f"; Shopify left out {', '.join(missing)}" if missing else "")
    return Installed(shop, reinstalled, missing)
