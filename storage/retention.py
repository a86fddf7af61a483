"""Bounded tables: finished jobs, webhook receipts and periodic-run rows are deleted once past their retention, a
batch at a time (each batch its own short transaction, so ingest and clicks never wait behind a long delete).

Audit events and requests are never deleted here: they are the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Job, PeriodicRun, WebhookReceipt

FINISHED = ("done", "cancelled")  # dead jobs stay until someone retries or looks at them


async def prune_jobs(session: AsyncSession, *, before: datetime, batch: int, kinds: Iterable[str] | None = None,
                     other_than: Iterable[str] = ()) -> int:
    """Delete up to `batch` finished jobs last updated before `before` (of `kinds`, or of every kind but
    `other_than`); returns how many."""
    chosen = select(Job.id).where(col(Job.status).in_(FINISHED), col(Job.updated_at) < before)
    if kinds is not None:
        chosen = chosen.where(col(Job.kind).in_(list(kinds)))
    if other := list(other_than):
        chosen = chosen.where(col(Job.kind).not_in(other))
    result = await session.exec(delete(Job).where(col(Job.id).in_(chosen.order_by(Job.id).limit(batch))))
    return result.rowcount


async def prune_receipts(session: AsyncSession, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` webhook receipts received before `before` (too old for Shopify to redeliver)."""
    chosen = select(WebhookReceipt.id).where(col(WebhookReceipt.received_at) < before)
    result = await session.exec(delete(WebhookReceipt).where(
        col(WebhookReceipt.id).in_(chosen.order_by(WebhookReceipt.id).limit(batch))))
    return result.rowcount


async def prune_periodic_runs(session: AsyncSession, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` finished periodic-run rows of periods started before `before`."""
    chosen = select(PeriodicRun.id).where(col(PeriodicRun.period_start) < before,
                                          col(PeriodicRun.finished_at).is_not(None))
    result = await session.exec(delete(PeriodicRun).where(
        col(PeriodicRun.id).in_(chosen.order_by(PeriodicRun.id).limit(batch))))
    return result.rowcount
