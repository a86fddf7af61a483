"""Webhook receipts (whose unique delivery/event ids make a redelivery a no-op) and their jobs, a batch at a time."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import SQLITE_PRAGMAS, is_sqlite, writer_lock
from storage.models import WebhookReceipt


@dataclass(frozen=True, slots=True)
class Receipt:
    """One delivery to store: its receipt, and (when `job_key` is set) the job that processes it."""

    webhook_id: str
    event_id: str | None
    topic: str
    shop: str
    job_key: str | None = None
    job_payload: str | None = None  # the job's payload, already JSON text (built from the delivery's own bytes)
    job_kind: str | None = None  # the job's kind when not the batch's own (a fulfillment_orders/* topic's job)


# PostgreSQL: the whole batch in one statement, so one round trip and no BEGIN/COMMIT of its own (a single
# statement is atomic). Its text never changes, so asyncpg prepares it once; a receipts-then-jobs pair of
# multi-row VALUES was a new statement to parse and plan for every batch size.
_PG_STORE = """
WITH d AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $10::text[])
        WITH ORDINALITY AS d(webhook_id, event_id, topic, shop_domain, key, payload, kind, n)
), r AS (
    INSERT INTO webhook_receipt (webhook_id, event_id, topic, shop_domain, received_at)
    SELECT webhook_id, event_id, topic, shop_domain, $7::timestamptz FROM d ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING webhook_id
), j AS (
    INSERT INTO job (kind, key, status, payload, run_at, attempts, max_attempts, created_at, updated_at)
    SELECT coalesce(d.kind, $8::text), d.key, 'pending', d.payload::json, $7, 0, $9::integer, $7, $7
    FROM d JOIN r USING (webhook_id) WHERE d.key IS NOT NULL ORDER BY d.n
)
SELECT webhook_id FROM r
"""

# SQLite: plain statements, run in the thread of a connection kept for batches.
_RAW_RECEIPT = ("INSERT INTO webhook_receipt (webhook_id, event_id, topic, shop_domain, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING webhook_id")
_RAW_JOB = ("INSERT INTO job (kind, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at) "
            "VALUES (?, ?, ?, 'pending', ?, 0, ?, ?, ?)")


class _SqliteBatches:
    """A SQLite file's batches written in one hop to a thread: every statement of a batch runs there.

    Through SQLAlchemy and aiosqlite each statement (BEGIN, the inserts, COMMIT) was its own hop between the
    event loop and the driver's thread; they were most of the web process's database time.
    """

    def __init__(self, path: str, dialect: Any):
        self._path = path
        # SQLAlchemy's own text for a timestamp ("YYYY-MM-DD HH:MM:SS.ffffff", UTC): rows are compared as text,
        # so sqlite3's default adapter (which appends "+00:00") would put a job due now after now.
        column = WebhookReceipt.__table__.c.received_at.type
        self._when = column.dialect_impl(dialect).bind_processor(dialect)
        self._db: sqlite3.Connection | None = None

    def write(self, receipts: list[Receipt], job_kind: str, now: datetime, max_attempts: int) -> set[str]:
        """Store the batch in one IMMEDIATE transaction (runs in a worker thread)."""
        if self._db is None:
            self._db = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                self._db.execute(f"PRAGMA {pragma}")
        db, at = self._db, self._when(now)
        db.execute("BEGIN IMMEDIATE")
        try:
            stored = {row[0] for r in receipts
                      for row in db.execute(_RAW_RECEIPT, (r.webhook_id, r.event_id, r.topic, r.shop, at))}
            db.executemany(_RAW_JOB, [(r.job_kind or job_kind, r.job_key, r.job_payload, at, max_attempts, at, at)
                                      for r in receipts if r.job_key and r.webhook_id in stored])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return stored

    def close(self) -> None:
        """Close the thread's connection."""
        db, self._db = self._db, None
        if db is not None:
            db.close()


class BatchStore:
    """Writes batches of receipts and their jobs atomically; `store` returns the webhook ids that were new."""

    def __init__(self, engine: AsyncEngine, sessions: Any):
        self.engine, self.sessions = engine, sessions
        # PostgreSQL: one connection kept for the batches (written one at a time), so a batch costs one round
        # trip, where a pool checkout's liveness ping alone costs three (BEGIN, ping, ROLLBACK).
        self._conn: AsyncConnection | None = None
        self._sqlite = _SqliteBatches(engine.url.database or "", engine.dialect) if is_sqlite(engine) else None

    async def store(self, receipts: list[Receipt], *, job_kind: str, now: datetime, max_attempts: int) -> set[str]:
        """Store the batch; on PostgreSQL, a batch whose kept connection failed is tried once more on a fresh one."""
        if self._sqlite is not None:
            async with writer_lock(self.sessions):  # this process's other writers queue here, not in busy_timeout
                return await asyncio.to_thread(self._sqlite.write, receipts, job_kind, now, max_attempts)
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = await self.engine.connect()
                return await _store_pg(self._conn, receipts, job_kind, now, max_attempts)
            except Exception:
                # Retrying is safe: a batch that did commit finds its receipts there and stores nothing twice
                # (its senders are then told "duplicate", still a 200).
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Give the kept connection back (dropping it if it broke)."""
        if self._sqlite is not None:
            self._sqlite.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # a dead connection: the pool discards it
                await conn.invalidate()


async def _store_pg(conn: AsyncConnection, receipts: list[Receipt], job_kind: str, now: datetime,
                    max_attempts: int) -> set[str]:
    raw = (await conn.get_raw_connection()).driver_connection
    rows = await raw.fetch(
        _PG_STORE, [r.webhook_id for r in receipts], [r.event_id for r in receipts], [r.topic for r in receipts],
        [r.shop for r in receipts], [r.job_key for r in receipts], [r.job_payload for r in receipts], now, job_kind,
        max_attempts, [r.job_kind for r in receipts])
    return {row[0] for row in rows}
