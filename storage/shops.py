"""Shops and their Shopify tokens, sealed at rest with the keyring (storage/secrets.py).

Shopify asks apps to encrypt stored tokens at rest ("Securely store refresh tokens … encrypt at rest",
https://shopify.dev/changelog/posts/offline-access-tokens-now-support-expiry-and-refresh). Every column listed in
SEALED holds Fernet tokens; `holdfast rotate-secrets` re-seals them all after a key rotation.

A token and its refresh token are always written together, in one statement: "apps should continue to store every
refreshed token pair atomically" (https://shopify.dev/changelog/more-resilient-refreshes-for-expiring-offline-access-tokens).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Column, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Shop
from storage.secrets import Keyring, Resealed, reseal_column

LEGACY, CLIENT_CREDENTIALS, AUTHORIZATION_CODE = "legacy", "client_credentials", "authorization_code"
_SHOP = Shop.__table__
# (sealed column, the row's key): rotated together by `holdfast rotate-secrets`.
SEALED: tuple[tuple[Column, Column], ...] = ((_SHOP.c.access_token, _SHOP.c.domain),
                                             (_SHOP.c.refresh_token, _SHOP.c.domain))


def _what(domain: str, name: str = "access token") -> str:
    return f"the {name} of {domain}"


@dataclass(frozen=True)
class Credentials:
    """A shop's stored grant, opened; repr() never shows a token."""

    domain: str
    grant_type: str
    token: str | None = field(repr=False)
    expires_at: datetime | None
    refresh_token: str | None = field(repr=False)
    refresh_expires_at: datetime | None
    uninstalled_at: datetime | None
    renew_until: datetime | None
    token_error: str | None


async def credentials(session: AsyncSession, *, domain: str, keys: Keyring) -> Credentials | None:
    """The shop's grant with its tokens opened; None for a shop holdfast does not serve.

    SecretKeyError (one sentence) if no configured key opens a stored token."""
    shop = (await session.exec(select(Shop).where(Shop.domain == domain))).first()
    if shop is None:
        return None
    token = keys.open(shop.access_token, what=_what(domain)).value if shop.access_token else None
    refresh = keys.open(shop.refresh_token, what=_what(domain, "refresh token")).value if shop.refresh_token else None
    return Credentials(domain, shop.grant_type, token, shop.token_expires_at, refresh, shop.refresh_expires_at,
                       shop.uninstalled_at, shop.renew_until, shop.token_error)


async def shop_token(session: AsyncSession, *, domain: str, keys: Keyring) -> str | None:
    """The access token of a shop, opened; SecretKeyError if no configured key opens it."""
    found = await credentials(session, domain=domain, keys=keys)
    return None if found is None else found.token


async def upsert_shop(session: AsyncSession, *, domain: str, token: str, now: datetime, keys: Keyring) -> None:
    """Create or refresh a legacy shop (a static token from SHOPIFY_SHOPS); a row is written again when its token
    changed or was not sealed with the current key (plaintext from an older holdfast, or an older key)."""
    shop = (await session.exec(select(Shop).where(Shop.domain == domain))).first()
    if shop is None:
        session.add(Shop(domain=domain, access_token=keys.seal(token), created_at=now, installed_at=now))
        return
    # A row no configured key opens stops the start (SecretKeyError) instead of being overwritten: two processes
    # started with different keys would otherwise take turns making the token unreadable to each other.
    stored = keys.open(shop.access_token, what=_what(domain)) if shop.access_token else None
    if stored is None or stored.stale or stored.value != token or shop.grant_type != LEGACY:
        shop.access_token, shop.grant_type, shop.token_expires_at = keys.seal(token), LEGACY, None
        shop.refresh_token = shop.refresh_expires_at = shop.uninstalled_at = None
        session.add(shop)


async def ensure_shop(session: AsyncSession, *, domain: str, grant_type: str, now: datetime) -> None:
    """A shop whose tokens come from a grant (the first is fetched when needed); a shop that was on another grant
    (a legacy token before the move to the Dev Dashboard) keeps its row, and its next call fetches a token."""
    shop = (await session.exec(select(Shop).where(Shop.domain == domain))).first()
    if shop is None:
        session.add(Shop(domain=domain, grant_type=grant_type, created_at=now, installed_at=now))
    elif shop.grant_type != grant_type:
        shop.grant_type, shop.access_token, shop.token_expires_at = grant_type, None, None
        shop.refresh_token = shop.refresh_expires_at = None
        session.add(shop)


async def save_grant(session: AsyncSession, *, domain: str, grant_type: str, token: str, expires_at: datetime | None,
                     refresh_token: str | None, refresh_expires_at: datetime | None, scopes: str | None,
                     now: datetime, keys: Keyring) -> bool:
    """Store a freshly granted token (and its refresh token) in one write, and end the renewal lease; a shop that
    was uninstalled is installed again. True when the shop was uninstalled before (a reinstall)."""
    shop = (await session.exec(select(Shop).where(Shop.domain == domain))).first()
    if shop is None:
        shop = Shop(domain=domain, created_at=now)
    reinstalled = shop.uninstalled_at is not None
    shop.grant_type, shop.access_token, shop.token_expires_at = grant_type, keys.seal(token), expires_at
    shop.refresh_token = keys.seal(refresh_token) if refresh_token else None
    shop.refresh_expires_at, shop.scopes = refresh_expires_at, scopes
    if shop.installed_at is None or reinstalled:
        shop.installed_at = now
    shop.uninstalled_at = shop.renew_until = shop.renew_owner = shop.token_error = None
    session.add(shop)
    return reinstalled


async def take_lease(session: AsyncSession, *, domain: str, owner: str, now: datetime, until: datetime) -> bool:
    """Compare-and-set: become the one process renewing the shop's token until `until` (False: another has it)."""
    result = await session.exec(
        update(Shop).where(col(Shop.domain) == domain, or_(col(Shop.renew_until).is_(None), col(Shop.renew_until) < now))
        .values(renew_until=until, renew_owner=owner))
    return result.rowcount == 1


async def drop_lease(session: AsyncSession, *, domain: str, owner: str, error: str | None = None) -> None:
    """End our renewal lease without a new token (the grant failed); `error` is kept for the operator."""
    await session.exec(update(Shop).where(col(Shop.domain) == domain, col(Shop.renew_owner) == owner)
                       .values(renew_until=None, renew_owner=None, token_error=error))


async def forget_tokens(session: AsyncSession, *, domain: str, now: datetime) -> bool:
    """app/uninstalled: delete the shop's tokens and mark it uninstalled; False if it already was (a redelivery)."""
    result = await session.exec(
        update(Shop).where(col(Shop.domain) == domain, col(Shop.uninstalled_at).is_(None))
        .values(access_token=None, refresh_token=None, token_expires_at=None, refresh_expires_at=None,
                uninstalled_at=now, renew_until=None, renew_owner=None))
    return result.rowcount == 1


async def mark_uninstalled(session: AsyncSession, *, domain: str, now: datetime, error: str) -> None:
    """A grant answered that the app is not installed: no token, until a grant succeeds again."""
    await session.exec(update(Shop).where(col(Shop.domain) == domain)
                       .values(access_token=None, token_expires_at=None, uninstalled_at=now, renew_until=None,
                               renew_owner=None, token_error=error))


async def installed_at(session: AsyncSession, *, domain: str) -> datetime | None:
    """When this database first served the shop (None: before holdfast kept it, or not served)."""
    return (await session.exec(select(Shop.installed_at).where(Shop.domain == domain))).first()


async def grant_type(session: AsyncSession, *, domain: str) -> str | None:
    """How the shop's token is obtained (LEGACY, CLIENT_CREDENTIALS, AUTHORIZATION_CODE); None: not served."""
    return (await session.exec(select(Shop.grant_type).where(Shop.domain == domain))).first()


async def periodic_shops(session: AsyncSession) -> list[str]:
    """The shops periodic passes visit: the installed ones, and own stores that were uninstalled (a reinstall from
    the Dev Dashboard sends nothing: the pass's token request is how holdfast notices it, bot/shopify/tokens.py)."""
    rows = await session.exec(select(Shop.domain).where(or_(col(Shop.uninstalled_at).is_(None),
                                                            col(Shop.grant_type) == CLIENT_CREDENTIALS))
                              .order_by(Shop.domain))
    return list(rows.all())


async def served_shops(session: AsyncSession) -> list[str]:
    """The shops holdfast serves now (installed; a client-credentials shop is served before its first token)."""
    rows = await session.exec(select(Shop.domain).where(col(Shop.uninstalled_at).is_(None)).order_by(Shop.domain))
    return list(rows.all())


async def reseal_all(session: AsyncSession, *, keys: Keyring) -> Resealed:
    """Seal every stored secret that is not sealed with the current key again with it (`holdfast rotate-secrets`)."""
    done = Resealed()
    for column, key in SEALED:
        done = done.add(await reseal_column(session, keys=keys, column=column, key=key))
    return done
