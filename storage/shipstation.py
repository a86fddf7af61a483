"""ShipStation (issue #20): each shop's API key, sealed at rest, and each request's shipment state.

The key is stored as a Fernet token (storage/secrets.py) exactly like a Shopify token: callers seal before
`save_key` and open what `key_for` returns; `holdfast rotate-secrets` re-seals the column listed in SEALED.
The shipment row is what the ShipStation jobs (bot/features/shipstation/) did: one row per request, written by
`upsert` and read back by `get` and the reconciliation pass (`pending_for_reconcile`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Column
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ShipStationKey, ShipStationShipment
from storage.secrets import Keyring, Resealed, reseal_column

STATES = frozenset({"looking", "held", "not_found", "hold_failed", "restored", "routed", "route_failed", "kept",
                    "released"})
# Still in motion: a shipment being looked for, or held while the request is undecided (or its decision not yet
# applied). The others are where holdfast stops: done, or refused for good and left to an operator.
RECONCILE_STATES = ("looking", "held")
_KEYS = ShipStationKey.__table__
# (sealed column, the row's key): rotated by `holdfast rotate-secrets` with the Shopify tokens (storage/shops.py).
SEALED: tuple[tuple[Column, Column], ...] = ((_KEYS.c.key_sealed, _KEYS.c.shop_domain),)
_FIELDS = frozenset(ShipStationShipment.model_fields) - {"request_id", "shop_domain"}


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


async def save_key(session: AsyncSession, *, shop: str, sealed: str, now: datetime | None = None) -> None:
    """Store (or replace) the shop's ShipStation API key; `sealed` is already a Fernet token (Keyring.seal)."""
    row = await session.get(ShipStationKey, shop)
    if row is None:
        row = ShipStationKey(shop_domain=shop, key_sealed=sealed, updated_at=_now(now))
    elif row.key_sealed != sealed:
        row.key_sealed, row.updated_at = sealed, _now(now)
    session.add(row)


async def upsert_key(session: AsyncSession, *, shop: str, key: str, now: datetime, keys: Keyring) -> bool:
    """Seal and store the shop's key (SHIPSTATION_API_KEYS at start, `holdfast shipstation key`); True when written.

    A row is written again only when its key changed or is not sealed with the current key. A stored key no
    configured key opens stops the caller (SecretKeyError) instead of being overwritten, as for Shopify tokens
    (storage/shops.py upsert_shop): two processes started with different keys would otherwise take turns."""
    sealed = await key_for(session, shop=shop)
    stored = keys.open(sealed, what=f"the ShipStation API key of {shop}") if sealed else None
    if stored is not None and not stored.stale and stored.value == key:
        return False
    await save_key(session, shop=shop, sealed=keys.seal(key), now=now)
    return True


async def reseal_all(session: AsyncSession, *, keys: Keyring) -> Resealed:
    """Seal every stored ShipStation key not sealed with the current key again with it (`holdfast rotate-secrets`)."""
    done = Resealed()
    for column, key in SEALED:
        done = done.add(await reseal_column(session, keys=keys, column=column, key=key))
    return done


async def key_for(session: AsyncSession, *, shop: str) -> str | None:
    """The shop's stored key, still sealed (open it with Keyring.open); None: no key, the connector is off."""
    return (await session.exec(select(ShipStationKey.key_sealed).where(ShipStationKey.shop_domain == shop))).first()


async def shops_with_keys(session: AsyncSession) -> list[str]:
    """The shops that have a ShipStation key, by domain."""
    return list((await session.exec(select(ShipStationKey.shop_domain).order_by(ShipStationKey.shop_domain))).all())


async def get(session: AsyncSession, *, request_id: int) -> ShipStationShipment | None:
    """The request's shipment row; None before the first ShipStation job ran for it."""
    return await session.get(ShipStationShipment, request_id)


async def upsert(session: AsyncSession, *, request_id: int, shop: str, now: datetime | None = None,
                 **fields) -> ShipStationShipment:
    """Create or update the request's row with `fields` (columns of ShipStationShipment); returns the row.

    A new row starts in state "looking". updated_at is `now` (or fields["updated_at"], or the wall clock)."""
    unknown = set(fields) - _FIELDS
    if unknown:
        raise TypeError(f"not a shipstation_shipments column: {', '.join(sorted(unknown))}")
    state = fields.get("state")
    if state is not None and state not in STATES:
        raise ValueError(f"not a ShipStation state: {state!r} (one of {', '.join(sorted(STATES))})")
    updated_at = fields.pop("updated_at", None) or _now(now)
    row = await session.get(ShipStationShipment, request_id)
    if row is None:
        row = ShipStationShipment(request_id=request_id, shop_domain=shop, updated_at=updated_at)
    for name, value in fields.items():
        setattr(row, name, list(value) if name == "tags" else value)
    row.shop_domain, row.updated_at = shop, updated_at
    session.add(row)
    await session.flush()
    return row


async def pending_for_reconcile(session: AsyncSession, *, shops: Sequence[str],
                                limit: int) -> list[ShipStationShipment]:
    """Rows of these shops still in motion (RECONCILE_STATES), least recently touched first, at most `limit`."""
    if not shops:
        return []
    rows = await session.exec(
        select(ShipStationShipment)
        .where(col(ShipStationShipment.shop_domain).in_(list(shops)),
               col(ShipStationShipment.state).in_(RECONCILE_STATES))
        .order_by(col(ShipStationShipment.updated_at), col(ShipStationShipment.request_id))
        .limit(limit))
    return list(rows.all())
