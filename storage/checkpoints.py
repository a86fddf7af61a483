"""Audit checkpoints: the chain's head, signed, written outside the database, so deleting the newest rows shows.

The hash chain (storage/audit.py) catches an edited, removed or reordered row, but not the newest rows deleted
together with nothing after them: what is left is still a valid chain. A checkpoint line, published every hour to a
file or a Slack channel the database's users cannot rewrite, names the row count and head hash at that time and is
signed with a key derived from HOLDFAST_SECRET_KEY (HMAC-SHA256), so it cannot be forged from the database alone.
`holdfast audit verify --checkpoints FILE` checks the chain still reaches each checkpoint's row with its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent

PREFIX = "holdfast-audit-checkpoint v1"
LINE = re.compile(rf"{PREFIX} at=(?P<at>\S+) row=(?P<row>\d+) count=(?P<count>\d+) head=(?P<head>[0-9a-f]{{64}}) "
                   r"sig=(?P<sig>[0-9a-f]{64})")


def _sign(body: str, secret_key: str) -> str:
    # A key of its own, derived from the Fernet key: a checkpoint's signature reveals nothing of the sealing key.
    key = hashlib.sha256(b"holdfast audit checkpoint\0" + secret_key.encode()).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The chain at one moment: its newest row, how many rows, the head hash."""

    at: datetime
    row: int
    count: int
    head: str

    def body(self) -> str:
        return f"{PREFIX} at={self.at.isoformat(timespec='seconds')} row={self.row} count={self.count} head={self.head}"

    def line(self, secret_key: str) -> str:
        """The signed line to publish."""
        return f"{self.body()} sig={_sign(self.body(), secret_key)}"


def parse(line: str, secret_key: str) -> Checkpoint | None:
    """The checkpoint a line states, or None when it is not one or its signature does not verify."""
    m = LINE.search(line)
    if m is None:
        return None
    point = Checkpoint(datetime.fromisoformat(m["at"]), int(m["row"]), int(m["count"]), m["head"])
    return point if hmac.compare_digest(_sign(point.body(), secret_key), m["sig"]) else None


async def current(session: AsyncSession, *, now: datetime) -> Checkpoint | None:
    """The chain's head now (None: no audit rows yet)."""
    head = (await session.exec(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))).first()
    if head is None:
        return None
    count = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
    return Checkpoint(now, head[0], count, head[1])


async def check(session: AsyncSession, point: Checkpoint) -> str | None:
    """Why the database no longer matches a checkpoint (rows deleted or rewritten), or None when it does."""
    row = (await session.exec(select(AuditEvent.hash).where(AuditEvent.id == point.row))).first()
    if row is None:
        newest = (await session.exec(select(func.max(AuditEvent.id)))).one()
        return (f"the checkpoint of {point.at.isoformat(timespec='seconds')} names row {point.row}, but the "
                f"database ends at row {newest or 0}: rows were deleted")
    if row != point.head:
        return (f"row {point.row} has hash {row[:16]}…, not {point.head[:16]}… as the checkpoint of "
                f"{point.at.isoformat(timespec='seconds')} says: the chain was rewritten")
    before = (await session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= point.row))).one()
    if before != point.count:
        return (f"{before} rows up to row {point.row}, not {point.count} as the checkpoint of "
                f"{point.at.isoformat(timespec='seconds')} says: rows were deleted")
    return None
