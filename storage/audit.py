"""The append-only audit log: each row's hash covers its content and the previous row's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent

GENESIS = "0" * 64
_LOCK_ID = 0x686F6C64  # "hold": serialises appends on PostgreSQL so the chain never forks


def compute_hash(prev_hash: str, *, at: datetime, shop_domain: str | None, request_id: int | None,
                 actor: str, kind: str, data: dict[str, Any]) -> str:
    """SHA-256 over a canonical JSON rendering of the row and the previous hash."""
    body = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), shop_domain, request_id, actor, kind, data],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


_AUDIT = AuditEvent.__table__
_HEAD = select(_AUDIT.c.hash).order_by(_AUDIT.c.id.desc()).limit(1)


async def append(session: AsyncSession, *, at: datetime, actor: str, kind: str, shop_domain: str | None = None,
                 request_id: int | None = None, data: dict[str, Any] | None = None) -> str:
    """Append one event in the caller's transaction; returns its hash."""
    if session.bind.dialect.name == "postgresql":
        await session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_LOCK_ID))
    prev = (await session.exec(_HEAD)).first() or GENESIS
    data = json.loads(json.dumps(data or {}, default=str))  # what the database will give back
    digest = compute_hash(prev, at=at, shop_domain=shop_domain, request_id=request_id, actor=actor, kind=kind,
                          data=data)
    # Core, not the ORM's unit of work: every state change appends, and nothing reads the row back here.
    await session.exec(insert(_AUDIT).values(at=at, shop_domain=shop_domain, request_id=request_id, actor=actor,
                                             kind=kind, data=data, prev_hash=prev, hash=digest))
    return digest


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


@dataclass(frozen=True)
class Verification:
    """Outcome of walking the chain."""

    ok: bool
    count: int
    head: str
    broken_id: int | None = None
    problem: str | None = None


async def verify(session: AsyncSession) -> Verification:
    """Walk the whole chain; report the first edited, removed or reordered row."""
    prev, count = GENESIS, 0
    async for row in iterate(session):
        if row.prev_hash != prev:
            return Verification(False, count, prev, row.id, "its prev_hash does not match the row before it "
                                "(a row was removed, inserted or reordered)")
        expect = compute_hash(prev, at=row.at, shop_domain=row.shop_domain, request_id=row.request_id,
                              actor=row.actor, kind=row.kind, data=row.data)
        if row.hash != expect:
            return Verification(False, count, prev, row.id, "its content does not match its hash (the row was edited)")
        prev, count = row.hash, count + 1
    return Verification(True, count, prev)
