"""The jobs table: enqueue in the caller's transaction, claim with SKIP LOCKED, finish or retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, tuple_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Job

ACTIVE = ("pending", "running")
ENQUEUED = "holdfast_enqueued"  # set in session.info by `enqueue`: the worker looks for new work after commit


def enqueue(session: AsyncSession, *, kind: str, key: str, now: datetime, payload: dict[str, Any] | None = None,
            run_at: datetime | None = None, max_attempts: int = 8) -> Job:
    """Add a job to the caller's transaction (the outbox half of a state change)."""
    job = Job(kind=kind, key=key, payload=payload or {}, run_at=run_at or now, max_attempts=max_attempts,
              created_at=now, updated_at=now)
    session.add(job)
    session.info[ENQUEUED] = True
    return job


async def claim(session: AsyncSession, *, now: datetime, lease_s: float, limit: int,
                skip_kinds: tuple[str, ...] = ()) -> list[Job]:
    """Lease up to `limit` due jobs whose earlier same-key jobs are finished (none whose kind starts with one of
    `skip_kinds`), soonest first."""
    earlier = aliased(Job)
    # Two equalities rather than IN: an IN list is re-rendered on every call, and the worker claims often.
    active = or_(earlier.status == ACTIVE[0], earlier.status == ACTIVE[1])
    blocked = exists().where(and_(earlier.key == Job.key, earlier.id < Job.id, active))
    due = or_(and_(Job.status == "pending", col(Job.run_at) <= now),
              and_(Job.status == "running", col(Job.lease_until) < now))
    chosen = select(Job.id).where(due, ~blocked)
    for prefix in skip_kinds:
        chosen = chosen.where(~col(Job.kind).startswith(prefix))
    chosen = chosen.order_by(col(Job.run_at), col(Job.id)).limit(limit).with_for_update(skip_locked=True, of=Job)
    # One statement whatever the batch size (the worker claims often): no row-by-row UPDATE after a SELECT.
    leased = (update(Job).where(col(Job.id).in_(chosen.scalar_subquery()))
              .values(status="running", attempts=Job.attempts + 1, lease_until=now + timedelta(seconds=lease_s),
                      updated_at=now)
              .returning(Job).execution_options(synchronize_session=False))
    jobs = list((await session.exec(leased)).scalars().all())
    return sorted(jobs, key=lambda job: (job.run_at, job.id))


async def extend(session: AsyncSession, *, leases: list[tuple[int, int]], until: datetime, now: datetime) -> int:
    """Push out the leases of jobs still running here, given as (id, attempts); returns how many were ours."""
    if not leases:
        return 0
    result = await session.exec(
        update(Job).where(tuple_(col(Job.id), col(Job.attempts)).in_(leases), Job.status == "running")
        .values(lease_until=until, updated_at=now)
    )
    return result.rowcount


@dataclass(frozen=True)
class Finished:
    """What finishing a job found: whether it was still ours, and whether a same-key job waits behind it."""

    ours: bool
    successor: bool

    def __bool__(self) -> bool:
        return self.ours


async def finish(session: AsyncSession, *, job: Job, now: datetime) -> Finished:
    """Mark a claimed job done; not `ours` if our lease was lost (someone else owns it now).

    The same statement says whether a same-key job waits (it may start now): no second query per job.
    """
    later = aliased(Job)
    waiting = exists().where(later.key == Job.key, later.status == "pending").label("successor")
    result = await session.exec(
        update(Job).where(col(Job.id) == job.id, Job.status == "running", Job.attempts == job.attempts)
        .values(status="done", lease_until=None, updated_at=now, last_error=None).returning(waiting)
    )
    row = result.first()
    return Finished(ours=row is not None, successor=bool(row[0]) if row is not None else False)


async def fail(session: AsyncSession, *, job: Job, now: datetime, error: str, retry_at: datetime | None) -> str:
    """Reschedule a failed job at `retry_at`, or bury it as dead when None; returns the new status."""
    status = "pending" if retry_at is not None else "dead"
    await session.exec(
        update(Job).where(col(Job.id) == job.id, Job.status == "running", Job.attempts == job.attempts)
        .values(status=status, run_at=retry_at or now, lease_until=None, updated_at=now, last_error=error[:2000])
    )
    return status


async def defer(session: AsyncSession, *, job: Job, run_at: datetime, now: datetime, reason: str) -> bool:
    """Put a job this run has just finished back in the queue for `run_at`, giving back its attempt.

    For waits that are not failures (a busy Slack channel): the attempt budget is for things going wrong.
    Runs in the transaction that finished the job, so nobody sees it done in between.
    """
    result = await session.exec(
        update(Job).where(col(Job.id) == job.id, Job.status == "done", Job.attempts == job.attempts)
        .values(status="pending", run_at=run_at, attempts=max(0, job.attempts - 1), lease_until=None,
                updated_at=now, last_error=reason[:2000])
    )
    return result.rowcount == 1


async def queued(session: AsyncSession, *, key: str, lock: bool = True) -> bool:
    """True when a job with this key waits to start.

    Locked by default, so it cannot start before the caller commits (a caller that finds one can rely on it
    to see the caller's changes, and need not queue another); `lock=False` only asks (a finished job's
    successor may now be claimable).
    """
    query = select(Job.id).where(Job.key == key, Job.status == "pending").limit(1)
    return (await session.exec(query.with_for_update(of=Job) if lock else query)).first() is not None


async def next_run_at(session: AsyncSession) -> datetime | None:
    """When the earliest pending job is due (for the worker's sleep)."""
    return (await session.exec(select(Job.run_at).where(Job.status == "pending").order_by(col(Job.run_at)).limit(1))).first()


async def counts(session: AsyncSession) -> dict[str, int]:
    """Jobs by status."""
    from sqlalchemy import func

    rows = (await session.exec(select(Job.status, func.count()).group_by(Job.status))).all()
    return {status: n for status, n in rows}


async def listing(session: AsyncSession, *, statuses: tuple[str, ...], limit: int = 100) -> list[Job]:
    """Jobs in these statuses, soonest first (for `holdfast jobs`)."""
    query = select(Job).where(col(Job.status).in_(statuses)).order_by(col(Job.run_at), col(Job.id)).limit(limit)
    return list((await session.exec(query)).all())


async def retry(session: AsyncSession, *, job_id: int, now: datetime) -> bool:
    """Re-queue a dead job to run now with a fresh attempt budget; False if it is not dead."""
    result = await session.exec(
        update(Job).where(col(Job.id) == job_id, Job.status == "dead")
        .values(status="pending", run_at=now, attempts=0, lease_until=None, updated_at=now)
    )
    return result.rowcount == 1
