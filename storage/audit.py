"""The append-only audit log: each row's hash covers its content and the previous row's hash.

A row's personal data (what a customer or an approver could be identified by: the facts an order matched on,
the fields an approver typed) is kept apart from `data`, in an erasable part: `personal` holds the values with a
random salt of the row's own, and `personal_digest` (SHA-256 of salt and values) is what the hash covers in their
place. Erasing (a customers/redact or shop/redact webhook, bot/features/privacy) nulls `personal` and keeps the
digest, so the chain still verifies; the salt goes with the values, so the digest that stays cannot be matched
against guesses (an email address, a name) to find an erased value again. A row with no personal data, and every
row written before migration 0008, has neither column and chains exactly as before.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, null, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent

GENESIS = "0" * 64
_LOCK_ID = 0x686F6C64  # "hold": serialises appends on PostgreSQL so the chain never forks
_EMPTY = (None, "", [], {})


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compute_hash(prev_hash: str, *, at: datetime, shop_domain: str | None, request_id: int | None,
                 actor: str, kind: str, data: dict[str, Any], personal_digest: str | None = None) -> str:
    """SHA-256 over a canonical JSON rendering of the row and the previous hash (and, when the row has an
    erasable part, that part's digest; a row without one hashes as rows always did)."""
    row: list[Any] = [prev_hash, at.isoformat(timespec="microseconds"), shop_domain, request_id, actor, kind, data]
    if personal_digest is not None:
        row.append(personal_digest)
    return hashlib.sha256(_canonical(row)).hexdigest()


def digest_of(part: Any) -> str | None:
    """The digest of an erasable part ({"salt", "values"}); None when it is not one."""
    if not isinstance(part, dict) or not isinstance(part.get("salt"), str) or not isinstance(part.get("values"), dict):
        return None
    return hashlib.sha256(_canonical([part["salt"], part["values"]])).hexdigest()


def seal(values: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """An erasable part for these values, salted afresh, and its digest."""
    part = {"salt": secrets.token_hex(16), "values": values}
    return part, digest_of(part)  # type: ignore[return-value]


def _stored(value: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(value, default=str))  # what the database will give back


_AUDIT = AuditEvent.__table__
_HEAD = select(_AUDIT.c.hash).order_by(_AUDIT.c.id.desc()).limit(1)


async def append(session: AsyncSession, *, at: datetime, actor: str, kind: str, shop_domain: str | None = None,
                 request_id: int | None = None, data: dict[str, Any] | None = None,
                 personal: dict[str, Any] | None = None) -> str:
    """Append one event in the caller's transaction; returns its hash. `personal`: the event's personal data,
    stored erasable (empty values are left out; nothing left, no erasable part)."""
    if session.bind.dialect.name == "postgresql":
        await session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_LOCK_ID))
    prev = (await session.exec(_HEAD)).first() or GENESIS
    data = _stored(data or {})
    values = {k: v for k, v in (personal or {}).items() if v not in _EMPTY}
    part, part_digest = seal(_stored(values)) if values else (None, None)
    digest = compute_hash(prev, at=at, shop_domain=shop_domain, request_id=request_id, actor=actor, kind=kind,
                          data=data, personal_digest=part_digest)
    # Core, not the ORM's unit of work: every state change appends, and nothing reads the row back here.
    await session.exec(insert(_AUDIT).values(at=at, shop_domain=shop_domain, request_id=request_id, actor=actor,
                                             kind=kind, data=data, prev_hash=prev, hash=digest, personal=part,
                                             personal_digest=part_digest))
    return digest


def personal_values(row: AuditEvent) -> dict[str, Any] | None:
    """A row's personal data; None when it had none or it was erased."""
    part = row.personal
    return dict(part["values"]) if isinstance(part, dict) and isinstance(part.get("values"), dict) else None


def content(row: AuditEvent) -> dict[str, Any]:
    """What a row says, for people reading it: its data with its personal values (unless erased)."""
    return {**row.data, **(personal_values(row) or {})}


async def erase(session: AsyncSession, *, request_ids: Iterable[int] = (), shop: str | None = None,
                chunk: int = 500) -> int:
    """Null the erasable part of the rows of these requests (and of every row of `shop`); their digests stay, so
    the chain verifies as before. Returns how many rows lost personal data."""
    ids = sorted(set(request_ids))
    groups: list[Any] = [col(AuditEvent.request_id).in_(ids[i:i + chunk]) for i in range(0, len(ids), chunk)]
    if shop is not None:
        groups.append(col(AuditEvent.shop_domain) == shop)
    erased = 0
    for where in groups:
        result = await session.exec(update(_AUDIT).where(where, _AUDIT.c.personal.is_not(None))
                                    .values(personal=null()))
        erased += result.rowcount or 0
    return erased


async def iterate(session: AsyncSession, *, batch: int = 1000, request_id: int | None = None) -> AsyncIterator[AuditEvent]:
    """All events in chain order (optionally of one request), fetched in batches."""
    last = 0
    while True:
        query = select(AuditEvent).where(col(AuditEvent.id) > last).order_by(col(AuditEvent.id)).limit(batch)
        if request_id is not None:
            query = query.where(AuditEvent.request_id == request_id)
        rows = (await session.exec(query)).all()
        if not rows:
            return
        for row in rows:
            yield row
        last = rows[-1].id


async def of_requests(session: AsyncSession, *, request_ids: Iterable[int], chunk: int = 500) -> list[AuditEvent]:
    """Every event of these requests, in chain order."""
    ids = sorted(set(request_ids))
    found: list[AuditEvent] = []
    for i in range(0, len(ids), chunk):
        found += (await session.exec(select(AuditEvent).where(col(AuditEvent.request_id).in_(ids[i:i + chunk])))).all()
    return sorted(found, key=lambda row: row.id or 0)


@dataclass(frozen=True)
class Verification:
    """Outcome of walking the chain."""

    ok: bool
    count: int
    head: str
    broken_id: int | None = None
    problem: str | None = None
    erased: int = 0  # rows whose personal data was erased (their digests verified in its place)


def _problem(row: AuditEvent, prev: str) -> str | None:
    """What is wrong with one row, given the hash before it; None when it verifies."""
    if row.prev_hash != prev:
        return "its prev_hash does not match the row before it (a row was removed, inserted or reordered)"
    if row.personal is not None and (row.personal_digest is None or digest_of(row.personal) != row.personal_digest):
        return "its personal data does not match its digest (the row was edited)"
    expect = compute_hash(prev, at=row.at, shop_domain=row.shop_domain, request_id=row.request_id, actor=row.actor,
                          kind=row.kind, data=row.data, personal_digest=row.personal_digest)
    return None if row.hash == expect else "its content does not match its hash (the row was edited)"


async def verify(session: AsyncSession) -> Verification:
    """Walk the whole chain; report the first edited, removed or reordered row. An erased personal part is not an
    edit: its digest is still in the row, and the hash covers the digest."""
    prev, count, erased = GENESIS, 0, 0
    async for row in iterate(session):
        problem = _problem(row, prev)
        if problem:
            return Verification(False, count, prev, row.id, problem, erased)
        erased += row.personal is None and row.personal_digest is not None
        prev, count = row.hash, count + 1
    return Verification(True, count, prev, erased=erased)
