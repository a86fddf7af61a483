"""Secrets at rest: Shopify tokens are stored sealed with Fernet under HOLDFAST_SECRET_KEY, never in plaintext.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`, https://cryptography.io/en/latest/fernet/) authenticates
what it decrypts, and MultiFernet is its key rotation: a value is always sealed with the current key
(HOLDFAST_SECRET_KEY); values sealed with an older one (HOLDFAST_SECRET_KEY_PREVIOUS, a comma-separated list)
stay readable, and `holdfast rotate-secrets` seals them again with the current key (`reseal_column`).

Rows written by holdfast before tokens were sealed hold the plaintext token. Every Fernet token starts with the
version byte 0x80 and a 64-bit timestamp whose high bytes are zero, "gAAAAA" in base64
(https://github.com/fernet/spec/blob/master/Spec.md); no Shopify token does (`shpat_…`, `shpca_…`, 32 hex
digits: https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing). Such a value is read as
is and reported stale, so the next write (the start for SHOPIFY_SHOPS, or `holdfast rotate-secrets`) seals it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

FERNET_PREFIX = "gAAAAA"
MAKE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
MISSING_KEY = ("HOLDFAST_SECRET_KEY is not set: it encrypts the Shopify tokens holdfast stores; "
               f"make one with {MAKE_KEY}")


class SecretKeyError(Exception):
    """A secret cannot be sealed or opened with the configured keys; the message is one sentence for the operator."""


@dataclass(frozen=True)
class Opened:
    """A stored secret, opened."""

    value: str
    stale: bool  # not sealed with the current key (plaintext, or an older key): seal it again


def _fernet(key: str, setting: str) -> Fernet:
    try:
        return Fernet(key.strip())
    except ValueError:  # wrong length or not url-safe base64; the key itself is never echoed
        raise SecretKeyError(f"{setting} is not a Fernet key (32 url-safe base64-encoded bytes); "
                             f"make one with {MAKE_KEY}") from None


class Keyring:
    """The current key, which seals, and the previous keys, which only open."""

    def __init__(self, *, current: str, previous: Sequence[str] = ()):
        self._current = _fernet(current, "HOLDFAST_SECRET_KEY") if current.strip() else None
        olds = [_fernet(k, "HOLDFAST_SECRET_KEY_PREVIOUS") for k in previous if k.strip()]
        self._previous = MultiFernet(olds) if olds else None

    def __repr__(self) -> str:
        return f"Keyring(current={'set' if self._current else 'unset'}, previous={bool(self._previous)})"

    @property
    def ready(self) -> bool:
        """True when there is a current key to seal with."""
        return self._current is not None

    def seal(self, value: str) -> str:
        """`value` encrypted with the current key (a Fernet token, text)."""
        if self._current is None:
            raise SecretKeyError(MISSING_KEY)
        return self._current.encrypt(value.encode()).decode("ascii")

    def open(self, stored: str, *, what: str = "a stored secret") -> Opened:
        """The plaintext of a stored value; SecretKeyError (one sentence naming the settings) if no key opens it."""
        if not stored.startswith(FERNET_PREFIX):
            return Opened(stored, stale=True)  # plaintext from before tokens were sealed
        token = stored.encode("ascii")
        if self._current is not None:
            try:
                return Opened(self._current.decrypt(token).decode(), stale=False)
            except InvalidToken:
                pass
        if self._previous is not None:
            try:
                return Opened(self._previous.decrypt(token).decode(), stale=True)
            except InvalidToken:
                pass
        if self._current is None and self._previous is None:
            raise SecretKeyError(f"{what} is encrypted but HOLDFAST_SECRET_KEY is not set: set it to the key it "
                                 "was written with")
        raise SecretKeyError(f"{what} was encrypted with a key that is neither HOLDFAST_SECRET_KEY nor in "
                             "HOLDFAST_SECRET_KEY_PREVIOUS: add the key it was written with to "
                             "HOLDFAST_SECRET_KEY_PREVIOUS")


@dataclass
class Resealed:
    """What `reseal_column` did: values read, values sealed again with the current key, rows no key opens."""

    read: int = 0
    resealed: int = 0
    unreadable: list[str] = field(default_factory=list)

    def add(self, other: Resealed) -> Resealed:
        """Both counts together."""
        return Resealed(self.read + other.read, self.resealed + other.resealed, self.unreadable + other.unreadable)


async def reseal_column(session: AsyncSession, *, keys: Keyring, column: Column, key: Column) -> Resealed:
    """Seal again, with the current key, every value of a sealed `column` that is stale (plaintext or an older key).

    Each write is a compare-and-set on the old ciphertext, so a token renewed by another process meanwhile (a
    refresh token is replaced at every use) is never overwritten with the value read before it. NULLs are skipped.
    """
    if not keys.ready:
        raise SecretKeyError(MISSING_KEY)
    done = Resealed()
    rows = (await session.exec(select(key, column).where(column.is_not(None)))).all()
    for row_key, stored in rows:
        done.read += 1
        try:
            opened = keys.open(stored, what=f"{column.table.name}.{column.name} of {row_key}")
        except SecretKeyError:
            done.unreadable.append(str(row_key))
            continue
        if opened.stale:
            result = await session.exec(update(column.table).where(key == row_key, column == stored)
                                           .values({column.name: keys.seal(opened.value)}))
            done.resealed += result.rowcount
    return done
