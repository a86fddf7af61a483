"""Shops and their Shopify tokens, sealed at rest with the keyring (storage/secrets.py).

Shopify asks apps to encrypt stored tokens at rest ("Securely store refresh tokens … encrypt at rest",
https://shopify.dev/changelog/posts/offline-access-tokens-now-support-expiry-and-refresh). Every column listed in
SEALED holds Fernet tokens; `holdfast rotate-secrets` re-seals them all after a key rotation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Shop
from storage.secrets import Keyring, Resealed, reseal_column

_SHOP = Shop.__table__
# (sealed column, the row's key): a refresh token column joins this list and is rotated with the rest.
SEALED: tuple[tuple[Column, Column], ...] = ((_SHOP.c.access_token, _SHOP.c.domain),)


def _what(domain: str) -> str:
    return f"the access token of {domain}"


async def shop_token(session: AsyncSession, *, domain: str, keys: Keyring) -> str | None:
    """The access token of a configured shop, opened; SecretKeyError if no configured key opens it."""
    stored = (await session.exec(select(Shop.access_token).where(Shop.domain == domain))).first()
    return None if stored is None else keys.open(stored, what=_what(domain)).value


async def upsert_shop(session: AsyncSession, *, domain: str, token: str, now: datetime, keys: Keyring) -> None:
    """Create or refresh a shop from configuration; a row is written again when its token changed or was not
    sealed with the current key (plaintext from an older holdfast, or an older key)."""
    shop = (await session.exec(select(Shop).where(Shop.domain == domain))).first()
    if shop is None:
        session.add(Shop(domain=domain, access_token=keys.seal(token), created_at=now))
        return
    # A row no configured key opens stops the start (SecretKeyError) instead of being overwritten: two processes
    # started with different keys would otherwise take turns making the token unreadable to each other.
    stored = keys.open(shop.access_token, what=_what(domain))
    if stored.stale or stored.value != token:
        shop.access_token = keys.seal(token)
        session.add(shop)


async def reseal_all(session: AsyncSession, *, keys: Keyring) -> Resealed:
    """Seal every stored secret that is not sealed with the current key again with it (`holdfast rotate-secrets`)."""
    done = Resealed()
    for column, key in SEALED:
        done = done.add(await reseal_column(session, keys=keys, column=column, key=key))
    return done
