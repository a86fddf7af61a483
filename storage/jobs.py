"""The jobs table: enqueue in the caller's transaction, claim with SKIP LOCKED, finish or retry."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, or_, tuple_, update
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


_JOB = Job.__table__
_TIME = _JOB.c.updated_at.type  # bound times go through the columns' own type (SQLite compares them as text)


@functools.lru_cache(maxsize=8)
def _claim_statement(skip_kinds: tuple[str, ...]) -> Any:
    # Built once per `skip_kinds`, as Core on the table: building and adapting the expression (an aliased
    # entity) on every call, and the ORM's bulk-update bookkeeping, cost more than running it.
    earlier = _JOB.alias("earlier")
    now = bindparam("now", type_=_TIME)
    # Two equalities rather than IN: an IN list would be re-rendered on every call.
    active = or_(earlier.c.status == ACTIVE[0], earlier.c.status == ACTIVE[1])
    blocked = exists().where(earlier.c.key == _JOB.c.key, earlier.c.id < _JOB.c.id, active)
    due = or_(and_(_JOB.c.status == "pending", _JOB.c.run_at <= now),
              and_(_JOB.c.status == "running", _JOB.c.lease_until < now))
    chosen = select(_JOB.c.id).where(due, ~blocked)
    for kind in skip_kinds:  # inequalities, not NOT IN: an expanding IN list is re-rendered on every call
        chosen = chosen.where(_JOB.c.kind != kind)
    chosen = (chosen.order_by(_JOB.c.run_at, _JOB.c.id).limit(bindparam("batch", type_=Integer))
              .with_for_update(skip_locked=True, of=_JOB))
    # One statement whatever the batch size: no row-by-row UPDATE after a SELECT.
    return (update(_JOB).where(_JOB.c.id.in_(chosen.scalar_subquery()))
            .values(status="running", attempts=_JOB.c.attempts + 1, lease_until=bindparam("until", type_=_TIME),
                    updated_at=now)
            .returning(*_JOB.c))


async def claim(session: AsyncSession, *, now: datetime, lease_s: float, limit: int,
                skip_kinds: tuple[str, ...] = ()) -> list[Job]:
    """Lease up to `limit` due jobs whose earlier same-key jobs are finished (none of the kinds in `skip_kinds`),
    soonest first."""
    result = await session.exec(_claim_statement(skip_kinds),
                                params={"now": now, "batch": limit, "until": now + timedelta(seconds=lease_s)})
    jobs = [Job(**row._mapping) for row in result]
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


def _finish_statement() -> Any:
    later = _JOB.alias("later")
    waiting = exists().where(later.c.key == _JOB.c.key, later.c.status == "pending").label("successor")
    return (update(_JOB).where(_JOB.c.id == bindparam("job_id"), _JOB.c.status == "running",
                               _JOB.c.attempts == bindparam("job_attempts"))
            .values(status="done", lease_until=None, updated_at=bindparam("now", type_=_TIME), last_error=None)
            .returning(waiting))


_FINISH = _finish_statement()


async def finish(session: AsyncSession, *, job: Job, now: datetime) -> Finished:
    """Mark a claimed job done; not `ours` if our lease was lost (someone else owns it now).

    The same statement says whether a same-key job waits (it may start now): no second query per job.
    """
    row = (await session.exec(_FINISH, params={"job_id": job.id, "job_attempts": job.attempts, "now": now})).first()
    return Finished(ours=row is not None, successor=bool(row[0]) if row is not None else False)


async def fail(session: AsyncSession, *, job: Job, now: datetime, error: str, retry_at: datetime | None,
               cancelled: bool = False) -> str:
    """Reschedule a failed job at `retry_at`, or bury it as dead when None (as cancelled when `cancelled`: its
    shop uninstalled the app, nothing went wrong); returns the new status."""
    status = "cancelled" if cancelled else "pending" if retry_at is not None else "dead"
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


async def queued(session: AsyncSession, *, key: str, kind: str | None = None) -> bool:
    """True when a job with this key (and kind, if given) waits to start.

    Locked, so it cannot start before the caller commits: a caller that finds one can rely on it to see the
    caller's changes, and need not queue another.
    """
    query = select(Job.id).where(Job.key == key, Job.status == "pending")
    if kind is not None:
        query = query.where(Job.kind == kind)
    return (await session.exec(query.limit(1).with_for_update(of=Job))).first() is not None


async def wake(session: AsyncSession, *, key: str, kind: str, now: datetime) -> int:
    """Make this key's waiting jobs of `kind` due now (something they wait for happened); how many woke."""
    result = await session.exec(
        update(Job).where(Job.key == key, Job.kind == kind, Job.status == "pending", col(Job.run_at) > now)
        .values(run_at=now, updated_at=now)
    )
    return result.rowcount


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
