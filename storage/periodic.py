"""Periodic-run leases and reconciliation watermarks: small keyword-only queries."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PeriodicRun, ShopWatermark


async def claim(session: AsyncSession, *, name: str, period_start: datetime, owner: str, now: datetime) -> None:
    """Record this instance's run of one period; raises IntegrityError when another instance has it already.

    The caller enqueues the period's jobs in the same transaction, so a period is claimed and done together.
    """
    session.add(PeriodicRun(name=name, period_start=period_start, owner=owner, started_at=now, finished_at=now))
    await session.flush()


async def last_runs(session: AsyncSession) -> dict[str, PeriodicRun]:
    """The latest run of each periodic job."""
    rows = (await session.exec(select(PeriodicRun).order_by(col(PeriodicRun.period_start)))).all()
    return {row.name: row for row in rows}


async def runs(session: AsyncSession, *, name: str) -> list[PeriodicRun]:
    """Every recorded run of one periodic job, oldest first."""
    return list((await session.exec(select(PeriodicRun).where(PeriodicRun.name == name)
                                    .order_by(col(PeriodicRun.period_start)))).all())


async def watermark(session: AsyncSession, *, shop: str) -> datetime | None:
    """How far reconciliation has read this shop's orders."""
    row = await session.get(ShopWatermark, shop)
    return row.orders_updated_at if row else None


async def set_watermark(session: AsyncSession, *, shop: str, at: datetime, now: datetime) -> None:
    """Move the shop's watermark (callers never move it backwards)."""
    row = await session.get(ShopWatermark, shop)
    if row is None:
        session.add(ShopWatermark(shop_domain=shop, orders_updated_at=at, updated_at=now))
    else:
        row.orders_updated_at, row.updated_at = at, now
        session.add(row)
