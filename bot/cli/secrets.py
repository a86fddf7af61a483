"""`holdfast rotate-secrets`: seal every stored token again with the current HOLDFAST_SECRET_KEY.

An explicit step, like `holdfast migrate`, not something each start does: during a deploy several web and worker
processes start at once, and each would read and rewrite every token row. Run it once after putting the new key in
HOLDFAST_SECRET_KEY and the old one in HOLDFAST_SECRET_KEY_PREVIOUS; once it reports nothing left under an older
key, the old key can go.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import keyring
from bot.settings import Settings
from storage import shipstation, shops
from storage.db import make_engine, make_sessionmaker, transaction
from storage.secrets import MISSING_KEY, Keyring, Resealed, SecretKeyError


@asynccontextmanager
async def sealing(settings: Settings) -> AsyncIterator[tuple[AsyncSession, Keyring]]:
    """A transaction on the database and the keyring that seals secrets into it; SecretKeyError without a current
    key (or with a malformed one), before the database is opened."""
    keys = keyring(settings)
    if not keys.ready:
        raise SecretKeyError(MISSING_KEY)
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            yield session, keys
    finally:
        await engine.dispose()


async def rotate(settings: Settings) -> Resealed:
    """Re-seal the stale secrets; SecretKeyError without a current key (or with a malformed one)."""
    async with sealing(settings) as (session, keys):
        done = await shops.reseal_all(session, keys=keys)
        return done.add(await shipstation.reseal_all(session, keys=keys))  # ShipStation API keys too


def report(done: Resealed) -> tuple[int, list[str]]:
    """(exit code, lines) for what `rotate` did."""
    already = done.read - done.resealed - len(done.unreadable)
    lines = [f"{done.resealed} of {done.read} stored secret(s) re-encrypted with HOLDFAST_SECRET_KEY; "
             + f"{already} already were"]
    if done.unreadable:
        lines.append(f"{len(done.unreadable)} could not be opened with HOLDFAST_SECRET_KEY or "
                     f"HOLDFAST_SECRET_KEY_PREVIOUS and were left as they are: {', '.join(done.unreadable)}")
        return 1, lines
    lines.append("no stored secret needs HOLDFAST_SECRET_KEY_PREVIOUS any more: it can be unset")
    return 0, lines
