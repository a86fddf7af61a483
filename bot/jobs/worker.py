"""The job worker: claims due jobs, runs their executors, and finishes, retries or buries them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import logctx, metrics
from bot.jobs.errors import GiveUp, RetryLater
from bot.jobs.registry import Registry
from bot.shopify.client import ShopifyError, ShopifyTransientError, ShopUninstalled
from bot.shopify.throttle import backoff
from storage import audit, jobs
from storage.db import autocommit, transaction
from storage.models import Job

log = logging.getLogger(__name__)


class Context(Protocol):
    """What the worker itself reads of the runtime it hands to executors (bot/runtime.py is one)."""

    sessions: async_sessionmaker[AsyncSession]

    def now(self) -> datetime: ...


# Loads what a claimed batch's jobs will read, right after the claim; `forget` drops it once the job is done.
Prefetch = Callable[[Any, AsyncSession, list[Job]], Awaitable[None]]
Forget = Callable[[Any, int], None]


def classify(exc: BaseException) -> tuple[bool, float | None, str]:
    """(retryable, retry_after, message) for an executor's exception."""
    if isinstance(exc, RetryLater):
        return True, exc.retry_after, str(exc)
    if isinstance(exc, ShopifyTransientError):
        return True, None, str(exc)
    if isinstance(exc, (GiveUp, ShopifyError)):
        return False, None, str(exc)
    # Unknown errors (a network hiccup, a bug) are retried; the attempt bound stops a bug looping.
    return True, None, f"{type(exc).__name__}: {exc}"


class Worker:
    """Runs jobs from the jobs table; any number of workers may share one database."""

    def __init__(self, rt: Context, registry: Registry,
                 *, concurrency: int = 64, reserve: int | None = None, poll_s: float = 0.5, claim_gap_s: float = 0.0,
                 lease_s: float = 60.0, backoff_base_s: float = 1.0, backoff_max_s: float = 300.0,
                 timeout_s: float = 300.0, prefetch: Prefetch | None = None, forget: Forget | None = None):
        self.rt = rt  # handed to every executor
        self.timeout_s = timeout_s  # a run's bound unless its kind has its own (JobSpec.timeout_s)
        self.prefetch = prefetch
        self.forget = forget
        self.registry = registry
        self._shopify = frozenset(registry.shopify_kinds)
        self.concurrency = concurrency
        # Slots Shopify jobs leave to the others: a quarter (at least 2) of them.
        self.reserve = min(max(2, concurrency // 4) if reserve is None else reserve, concurrency - 1)
        self.poll_s = poll_s
        self.claim_gap_s = claim_gap_s
        self._last_claim = float("-inf")
        self.lease_s = lease_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[Any], Job] = {}
        self._stopping = False
        self._grace_s = 10.0
        # The last claim found fewer jobs than it had slots for: a freed slot alone is then no reason to claim
        # again (every claim takes SQLite's write lock); new jobs, a finished job's successor or the poll are.
        self._dry = False

    def wake(self) -> None:
        """Tell the worker new jobs were committed (it also polls, for other processes' jobs)."""
        self._dry = False
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch of due jobs and run them concurrently; returns how many ran."""
        now = self.rt.now()
        async with autocommit(self.rt.sessions, background=True) as session:
            batch = await jobs.claim(session, now=now, lease_s=self.lease_s, limit=self.concurrency)
            if batch and self.prefetch is not None:
                await self._prefetch(session, batch)
        if batch:
            await asyncio.gather(*(self._run(job) for job in batch))
        return len(batch)

    async def run_forever(self) -> None:
        """Keep up to `concurrency` jobs running, claiming more as slots free up, until `stop()` or cancelled."""
        heartbeat = asyncio.create_task(self._heartbeat(), name="holdfast-worker-heartbeat")
        try:
            while not self._stopping:
                # Cleared before looking: a wake (new jobs, a freed slot) after this point is not lost.
                self._wake.clear()
                free = self.concurrency - len(self._running)
                if free > 0:
                    loop = asyncio.get_running_loop()
                    gap = self._last_claim + self.claim_gap_s - loop.time()
                    if gap > 0:  # the last claim was just now: let the commits since then add up first
                        await asyncio.sleep(gap)
                        if self._stopping:
                            break
                        free = self.concurrency - len(self._running)
                    self._last_claim = loop.time()
                    try:
                        await self._claim_and_start(free)
                    except asyncio.CancelledError:
                        raise
                    except Exception:  # the database went away for a moment: keep the worker alive
                        log.exception("worker: claiming jobs failed; retrying")
                # A freed slot or new jobs set the wake; otherwise look again after poll_s (jobs come due).
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
        finally:
            await self._settle()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop claiming; `run_forever` returns once running jobs finish, or after `grace_s` cancels the rest."""
        self._stopping, self._grace_s = True, grace_s
        self._wake.set()

    async def _claim_and_start(self, limit: int) -> None:
        # Shopify jobs may wait long for the cost bucket; they never take the last `reserve` slots, so a
        # throttled shop does not hold up the approvers' Slack messages.
        room = max(0, self.concurrency - self.reserve - sum(j.kind in self._shopify for j in self._running.values()))
        now = self.rt.now()
        # Each claim is one statement that stands alone, and the loads after it read what had committed when
        # it ran: no transaction needed around them (on PostgreSQL, two round trips fewer per claim).
        async with autocommit(self.rt.sessions, background=True) as session:
            batch = await jobs.claim(session, now=now, lease_s=self.lease_s, limit=min(limit, room)) if room else []
            if len(batch) < limit and room < limit:  # capped: the rest of the slots go to the other kinds
                batch += await jobs.claim(session, now=now, lease_s=self.lease_s, limit=limit - len(batch),
                                          skip_kinds=self.registry.shopify_kinds)
            if batch and self.prefetch is not None:
                await self._prefetch(session, batch)
        capped = room < limit and sum(j.kind in self._shopify for j in batch) >= room
        self._dry = len(batch) < limit and not capped
        for job in batch:
            task = asyncio.create_task(self._run(job), name=f"holdfast-job-{job.id}")
            self._running[task] = job
            task.add_done_callback(self._slot_freed)

    async def _prefetch(self, session: AsyncSession, batch: list[Job]) -> None:
        assert self.prefetch is not None
        try:
            await self.prefetch(self.rt, session, batch)
        except Exception:  # the claim stands (it committed): its jobs then read what they need themselves
            log.exception("worker: loading a claimed batch's requests failed; its jobs read them one by one")

    def _slot_freed(self, task: asyncio.Task[Any]) -> None:
        self._running.pop(task, None)
        if not self._dry or self._stopping:
            self._wake.set()

    async def _heartbeat(self) -> None:
        # A lease only says "the process running this is alive". A job may rightly take longer than the lease
        # (waiting its turn in Shopify's cost bucket, say), and if its lease ran out another claim would start
        # a second copy, which waits in the same queue, and so on: so leases of live jobs are pushed out.
        while True:
            await asyncio.sleep(self.lease_s / 3)
            leases = [(job.id, job.attempts) for job in self._running.values() if job.id is not None]
            if not leases:
                continue
            now = self.rt.now()
            try:
                async with transaction(self.rt.sessions, background=True) as session:
                    await jobs.extend(session, leases=leases, until=now + timedelta(seconds=self.lease_s), now=now)
            except Exception:  # the database went away for a moment; the next beat tries again
                log.exception("worker: extending job leases failed")

    async def _settle(self) -> None:
        # Jobs cancelled halfway leave a database connection mid-statement; finishing them is kinder to the pool.
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=self._grace_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def drain(self, *, max_rounds: int = 10_000) -> None:
        """Run until no job is due now (demo, CLI and tests)."""
        for _ in range(max_rounds):
            if not await self.run_once():
                return

    async def _run(self, job: Job) -> None:
        rid = job.payload.get("request_id") if isinstance(job.payload, dict) else None
        with logctx.scope(f"job {job.id} {job.kind}" + (f" request {rid}" if rid else "")):
            await self._run_scoped(job)

    async def _run_scoped(self, job: Job) -> None:
        spec = self.registry.get(job.kind)
        started = time.monotonic()
        try:
            if spec is None:
                raise GiveUp(f"no executor for job kind {job.kind!r}")
            limit = spec.timeout_s or self.timeout_s
            try:
                apply = await asyncio.wait_for(spec.executor(self.rt, job), timeout=limit)
            except TimeoutError:  # cancelled; a job looks before it acts again, so a retry cannot double anything
                raise RetryLater(f"still running after {limit:g} s (its kind's timeout): cancelled, will try "
                                 "again") from None
            # Nothing to apply: finishing is one statement, and needs no transaction around it.
            async with (transaction if apply is not None else autocommit)(self.rt.sessions, background=True) as session:
                finished = await jobs.finish(session, job=job, now=self.rt.now())
                if finished and apply is not None:
                    await apply(session)
                more = finished.successor or session.info.get(jobs.ENQUEUED)
            if more:  # follow-up jobs, or this key's next one: look again at once (else the queue is dry)
                self.wake()
            metrics.JOBS.labels(kind=job.kind, outcome="done").inc()
        except Exception as exc:  # every failure is recorded on the job row, none is lost
            await self._failed(job, exc)
        finally:
            metrics.JOB_SECONDS.labels(kind=job.kind).observe(time.monotonic() - started)
            if self.forget is not None and job.id is not None:
                self.forget(self.rt, job.id)

    def _retry_at(self, job: Job, now: datetime, retry_after: float | None) -> datetime:
        if retry_after is not None:
            return now + timedelta(seconds=retry_after)
        return now + timedelta(seconds=backoff(job.attempts, self.backoff_base_s, self.backoff_max_s, random.random()))

    async def _failed(self, job: Job, exc: Exception) -> None:
        retryable, retry_after, message = classify(exc)
        now = self.rt.now()
        if isinstance(exc, ShopUninstalled):  # not a failure: the merchant removed the app (one line, no dead job)
            metrics.JOBS.labels(kind=job.kind, outcome="cancelled").inc()
            log.info("job %s %s cancelled: %s", job.id, job.kind, message)
            async with transaction(self.rt.sessions, background=True) as session:
                await jobs.fail(session, job=job, now=now, error=message, retry_at=None, cancelled=True)
            self.wake()
            return
        dead = not retryable or job.attempts >= job.max_attempts
        metrics.JOBS.labels(kind=job.kind, outcome="dead" if dead else "failed").inc()
        log.warning("job %s %s attempt %s failed: %s%s", job.id, job.kind, job.attempts, message,
                    " (dead)" if dead else "")
        async with transaction(self.rt.sessions, background=True) as session:
            await jobs.fail(session, job=job, now=now, error=message,
                            retry_at=None if dead else self._retry_at(job, now, retry_after))
            if dead:
                await audit.append(session, at=now, actor="holdfast", kind="job.dead",
                                   request_id=job.payload.get("request_id"),
                                   data={"job_id": job.id, "kind": job.kind, "attempts": job.attempts, "error": message})
                spec = self.registry.get(job.kind)
                if spec is not None and spec.on_dead is not None:
                    await spec.on_dead(self.rt, session, job, message)
        if dead:
            self.wake()
