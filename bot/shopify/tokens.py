"""Every shop's current access token: read from the shop table, renewed before it expires, by one process at a time.

Tokens of today expire: a client-credentials token after about 24 hours, an expiring offline token after an hour
(bot/shopify/oauth.py). Shopify asks apps to "proactively refresh tokens a few minutes before they expire"
(https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh). Web and worker processes
share one token per shop: it is stored with its expiry, and a process that finds it due takes the shop's renewal
lease (a compare-and-set on the row), fetches one new token, stores it with its refresh token in one write and
lets the lease go; the others wait for the row to change. So a burst needing a token makes one grant, and a
refresh token, replaced at every use, is never spent twice.

After a 401 the caller asks for a token other than the one refused (`fresh`): the stored one when another process
renewed meanwhile, else a new grant. A legacy static token (SHOPIFY_SHOPS) cannot be renewed: a 401 is final.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import utcnow
from bot.shopify.client import ShopifyAuthError, ShopifyError, ShopifyTransientError, ShopUninstalled
from bot.shopify.oauth import Grant, GrantRefused, operator_hint, request_grant
from storage import shops
from storage.db import transaction
from storage.secrets import Keyring, SecretKeyError

log = logging.getLogger(__name__)
LEASE_S = 30.0  # longer than a token request may take (its timeout), so a lease is never stolen mid-request
WAIT_STEP_S = 0.05


class Tokens:
    """The TokenSource of ShopifyClients: `get(shop)` and, after a 401, `fresh(shop, stale)`."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], keys: Keyring,
                 http: Callable[[], aiohttp.ClientSession | None], oauth_url: str, client_id: str,
                 client_secret: str, install_url: Callable[[str], str], renew_margin_s: float = 300.0,
                 timeout_s: float = 10.0, retry_uninstalled_s: float = 300.0,
                 now: Callable[[], datetime] = utcnow):
        self._sessions, self.keys, self._http = sessions, keys, http  # keys: the install callback seals with them
        self._oauth_url, self._client_id, self._secret = oauth_url, client_id, client_secret
        self._install_url, self._margin = install_url, timedelta(seconds=renew_margin_s)
        self._timeout_s, self._now = timeout_s, now
        # A client-credentials shop that answered app_not_installed is asked again this often (a reinstall from the
        # Dev Dashboard sends no webhook); in between its jobs end without a call.
        self._retry_uninstalled = timedelta(seconds=retry_uninstalled_s)
        self._owner = f"{uuid.uuid4().hex[:12]}"
        self._cache: dict[str, tuple[str, datetime | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.grants = 0  # token requests this process made (tests and the operator's log)

    def __repr__(self) -> str:
        return f"Tokens(shops={sorted(self._cache)}, grants={self.grants})"

    def _usable(self, expires_at: datetime | None) -> bool:
        return expires_at is None or expires_at - self._margin > self._now()

    def forget(self, shop: str) -> None:
        """Drop the cached token (the shop was uninstalled)."""
        self._cache.pop(shop, None)

    async def get(self, shop: str) -> str:
        """A token for `shop` that is not due for renewal; renews it (once, across processes) when it is."""
        cached = self._cache.get(shop)
        if cached is not None and self._usable(cached[1]):
            return cached[0]
        return await self._renew(shop, stale=None)

    async def fresh(self, shop: str, stale: str) -> str:
        """A token other than `stale`, which Shopify just refused (HTTP 401)."""
        return await self._renew(shop, stale=stale)

    async def _renew(self, shop: str, *, stale: str | None) -> str:
        lock = self._locks.setdefault(shop, asyncio.Lock())
        async with lock:  # one renewal per shop in this process; the lease makes it one across processes
            cached = self._cache.get(shop)
            if cached is not None and cached[0] != stale and self._usable(cached[1]):
                return cached[0]
            waited_until = self._now() + timedelta(seconds=LEASE_S + self._timeout_s)
            while True:
                creds = await self._load(shop)
                if creds.token and creds.token != stale and self._usable(creds.expires_at):
                    self._cache[shop] = (creds.token, creds.expires_at)
                    return creds.token
                try:
                    self._refuse_without_grant(creds, stale)
                except ShopifyError:
                    self._cache.pop(shop, None)  # no token of this shop is to be used again
                    raise
                if await self._lease(shop):
                    # Read again under the lease: another process may have stored a token between our read and
                    # our lease (its write ends its lease), and a second grant would replace it for nothing.
                    creds = await self._load(shop)
                    if creds.token and creds.token != stale and self._usable(creds.expires_at):
                        async with transaction(self._sessions) as session:
                            await shops.drop_lease(session, domain=shop, owner=self._owner, error=creds.token_error)
                        self._cache[shop] = (creds.token, creds.expires_at)
                        return creds.token
                    return await self._grant_and_store(creds)
                if self._now() > waited_until:
                    raise ShopifyTransientError(f"{shop}: another process has been renewing the token for over "
                                                f"{LEASE_S:.0f} s; will try again")
                await asyncio.sleep(WAIT_STEP_S)

    async def _load(self, shop: str) -> shops.Credentials:
        async with self._sessions() as session:
            try:
                creds = await shops.credentials(session, domain=shop, keys=self.keys)
            except SecretKeyError as exc:  # permanent for the job: one sentence on the job row, no traceback
                raise ShopifyError(str(exc)) from None
        if creds is None:
            raise ShopifyError(f"{shop}: holdfast does not serve this shop: add it to SHOPIFY_SHOP (your own store) "
                               f"or install the app on it: {self._install_url(shop)}")
        return creds

    def _refuse_without_grant(self, creds: shops.Credentials, stale: str | None) -> None:
        """Raise when no grant can help: a legacy token, an uninstalled shop, a refresh token known to be dead."""
        shop, now = creds.domain, self._now()
        if creds.grant_type == shops.LEGACY:
            if creds.token is None:
                raise ShopUninstalled(f"{shop}: the app was uninstalled from this shop; its jobs stop here")
            raise ShopifyAuthError(f"{shop}: Shopify refused the access token from SHOPIFY_SHOPS (HTTP 401): the app "
                                   "was uninstalled or the token revoked; move to the Dev Dashboard app (README)")
        if creds.uninstalled_at is not None and (
                creds.grant_type != shops.CLIENT_CREDENTIALS
                or now - creds.uninstalled_at < self._retry_uninstalled):
            raise ShopUninstalled(f"{shop}: the app was uninstalled from this shop; install it again to resume "
                                  f"({creds.token_error or self._install_url(shop)})")
        if creds.grant_type == shops.AUTHORIZATION_CODE and (
                creds.refresh_token is None
                or (creds.refresh_expires_at is not None and creds.refresh_expires_at <= now)):
            raise ShopifyAuthError(f"{shop}: the stored refresh token is missing or expired: the merchant must "
                                   f"install the app again: open {self._install_url(shop)}")

    async def _lease(self, shop: str) -> bool:
        now = self._now()
        async with transaction(self._sessions) as session:
            return await shops.take_lease(session, domain=shop, owner=self._owner, now=now,
                                          until=now + timedelta(seconds=LEASE_S))

    async def _grant_and_store(self, creds: shops.Credentials) -> str:
        shop = creds.domain
        try:
            grant = await self._request(creds)
        except GrantRefused as exc:
            hint = operator_hint(exc, grant_type=creds.grant_type, install_url=self._install_url(shop))
            async with transaction(self._sessions) as session:
                if exc.error == "app_not_installed":
                    await shops.mark_uninstalled(session, domain=shop, now=self._now(), error=hint)
                else:
                    await shops.drop_lease(session, domain=shop, owner=self._owner, error=hint)
            log.warning("%s", hint)
            self._cache.pop(shop, None)
            if exc.error == "app_not_installed":
                raise ShopUninstalled(hint) from None
            raise ShopifyAuthError(hint) from None
        except BaseException:
            async with transaction(self._sessions) as session:
                await shops.drop_lease(session, domain=shop, owner=self._owner, error=creds.token_error)
            raise
        async with transaction(self._sessions) as session:
            reinstalled = await shops.save_grant(
                session, domain=shop, grant_type=creds.grant_type, token=grant.access_token,
                expires_at=grant.expires_at, refresh_token=grant.refresh_token,
                refresh_expires_at=grant.refresh_expires_at, scopes=grant.scope, now=self._now(), keys=self.keys)
        self._cache[shop] = (grant.access_token, grant.expires_at)
        log.info("%s: new %s token, valid until %s%s", shop, creds.grant_type.replace("_", " "),
                 grant.expires_at.isoformat(timespec="seconds") if grant.expires_at else "revoked",
                 " (the app is installed again)" if reinstalled else "")
        return grant.access_token

    async def _request(self, creds: shops.Credentials) -> Grant:
        http = self._http()
        if http is None:
            raise ShopifyTransientError("the HTTP session is not started")
        form = {"client_id": self._client_id, "client_secret": self._secret}
        if creds.grant_type == shops.CLIENT_CREDENTIALS:
            form["grant_type"] = "client_credentials"
        else:
            form.update(grant_type="refresh_token", refresh_token=creds.refresh_token or "")
        self.grants += 1
        return await request_grant(http, shop=creds.domain, url=self._oauth_url.format(shop=creds.domain)
                                   + "/access_token", form=form, now=self._now(), timeout_s=self._timeout_s)
