"""Periodic jobs: THE list, run by apscheduler; a (name, period) lease row lets one instance run each period."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import CHECKPOINT_KEY, DIGEST_KEY, PRUNE_KEY, JobKind, periodic_key
from bot.approvals.timers import EPOCH, period_start
from bot.runtime import Runtime
from bot.settings import Settings
from storage import jobs, periodic, shipstation, shops
from storage.db import transaction

log = logging.getLogger(__name__)
Enqueue = Callable[[Runtime, AsyncSession, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Periodic:
    """One periodic job: how often, aligned where, and what one period enqueues (jobs do the work, with retries)."""

    name: str
    every: timedelta
    enqueue: Enqueue
    offset: timedelta = timedelta(0)
    run_at_start: bool = False

    def period(self, now: datetime) -> datetime:
        """Start of the period containing `now` (the same on every instance)."""
        return period_start(now, self.every, offset=self.offset)

    def next_run(self, now: datetime) -> datetime:
        """When the next period starts."""
        return self.period(now) + self.every


def _per_shop(kind: JobKind) -> Enqueue:
    async def enqueue(rt: Runtime, session: AsyncSession, period: datetime) -> None:
        # The shops installed now, and own stores that may have been installed again (their passes end cancelled,
        # without a call, until shopify_uninstalled_retry_s has passed; then a token request tells).
        for shop in await shops.periodic_shops(session):
            # One key per shop: two passes over the same shop never run at once, and a pass still waiting to start
            # (the last one took longer than a period) is not joined by another that would only repeat it.
            key = periodic_key(kind, shop)
            if not await jobs.queued(session, key=key, kind=kind):
                rt.enqueue(session, kind, key=key, payload={"shop": shop, "period": period.isoformat()})
    return enqueue


async def _shipstation(rt: Runtime, session: AsyncSession, period: datetime) -> None:
    # One pass per shop with a ShipStation key (bot/features/shipstation/reconcile.py), one at a time per shop.
    for shop in await shipstation.shops_with_keys(session):
        key = periodic_key(JobKind.SHIPSTATION_RECONCILE, shop)
        if not await jobs.queued(session, key=key, kind=JobKind.SHIPSTATION_RECONCILE):
            rt.enqueue(session, JobKind.SHIPSTATION_RECONCILE, key=key, payload={"shop": shop, "period": period.isoformat()})


async def _checkpoint(rt: Runtime, session: AsyncSession, period: datetime) -> None:
    rt.enqueue(session, JobKind.AUDIT_CHECKPOINT, key=CHECKPOINT_KEY, payload={"period": period.isoformat()})


async def _prune(rt: Runtime, session: AsyncSession, period: datetime) -> None:
    rt.enqueue(session, JobKind.PRUNE, key=PRUNE_KEY, payload={"period": period.isoformat()})


async def _digest(rt: Runtime, session: AsyncSession, period: datetime) -> None:
    rt.enqueue(session, JobKind.DIGEST, key=DIGEST_KEY, payload={"period": period.isoformat()})


def periodic_jobs(settings: Settings) -> list[Periodic]:
    """Every periodic job holdfast runs, in one place."""
    reconcile_s = settings.poll_every_s if settings.poll else settings.reconcile_every_s
    out = [
        Periodic("reconcile", timedelta(seconds=reconcile_s), _per_shop(JobKind.RECONCILE), run_at_start=True),
        Periodic("digest", timedelta(days=1), _digest, offset=timedelta(hours=settings.digest_hour_utc)),
        Periodic("prune", timedelta(seconds=settings.prune_every_s), _prune),
        # ShipStation's holds against holdfast's records, as often as the Shopify reconciliation (no call for a shop
        # without a ShipStation key: the period finds none).
        Periodic("shipstation-reconcile", timedelta(seconds=reconcile_s), _shipstation),
    ]
    if settings.audit_checkpoint_file or settings.audit_checkpoint_channel:
        out.append(Periodic("audit-checkpoint", timedelta(seconds=settings.audit_checkpoint_every_s), _checkpoint))
    if not settings.poll:  # poll mode has no public URL, so there is nothing to subscribe
        out.append(Periodic("webhook-check", timedelta(seconds=settings.webhook_check_every_s),
                            _per_shop(JobKind.WEBHOOK_CHECK), run_at_start=True))
    return out


def instance_name() -> str:
    """Who holds a lease (for operators reading the periodic_run table)."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_period(rt: Runtime, spec: Periodic, *, owner: str | None = None) -> bool:
    """Claim the current period of `spec` and enqueue its jobs, atomically; False if another instance has it."""
    now = rt.now()
    start = spec.period(now)
    try:
        async with transaction(rt.sessions) as session:
            await periodic.claim(session, name=spec.name, period_start=start, owner=owner or instance_name(), now=now)
            await spec.enqueue(rt, session, start)
    except IntegrityError:
        return False  # the unique (name, period_start) row says another instance ran this period
    log.info("periodic %s: period %s enqueued", spec.name, start.isoformat())
    rt.wake_worker()
    return True


class Scheduler:
    """apscheduler driving `run_period` for each periodic job."""

    def __init__(self, rt: Runtime, specs: list[Periodic] | None = None):
        self.rt = rt
        self.specs = specs if specs is not None else periodic_jobs(rt.settings)
        self.owner = instance_name()
        self._aps: AsyncIOScheduler | None = None

    async def _tick(self, spec: Periodic) -> None:
        try:
            await run_period(self.rt, spec, owner=self.owner)
        except Exception:  # the database was away: the next tick tries again
            log.exception("periodic %s failed", spec.name)

    def start(self) -> None:
        """Start firing (needs a running event loop)."""
        self._aps = AsyncIOScheduler(timezone=UTC)
        for spec in self.specs:
            # Aligned to the epoch (+ offset), so every instance fires at the same instants as its periods start.
            trigger = IntervalTrigger(seconds=spec.every.total_seconds(), start_date=EPOCH + spec.offset, timezone=UTC)
            first = datetime.now(UTC) if spec.run_at_start else None
            self._aps.add_job(self._tick, trigger, args=[spec], id=spec.name, coalesce=True, max_instances=1,
                              misfire_grace_time=int(spec.every.total_seconds()), **({"next_run_time": first} if first else {}))
        self._aps.start()

    def shutdown(self) -> None:
        """Stop firing."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
