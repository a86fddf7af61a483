"""`holdfast jobs`: pending and dead jobs and the next periodic runs; `holdfast jobs retry ID` re-queues a dead job."""

from __future__ import annotations

from bot.clock import utcnow
from bot.jobs.scheduler import periodic_jobs
from bot.settings import Settings
from storage import jobs, periodic
from storage.db import make_engine, make_sessionmaker, transaction


def _line(job) -> str:
    error = f"  last error: {job.last_error[:120]}" if job.last_error else ""
    return f"{job.id:>7}  {job.status:<8} {job.kind:<24} attempts {job.attempts}/{job.max_attempts}  " \
           f"run at {job.run_at:%Y-%m-%d %H:%M:%S}  key {job.key}{error}"


async def show(settings: Settings) -> list[str]:
    """The report as lines."""
    engine = make_engine(settings.database_url)
    now = utcnow()
    try:
        async with make_sessionmaker(engine)() as session:
            active = await jobs.listing(session, statuses=("pending", "running"))
            dead = await jobs.listing(session, statuses=("dead",))
            last = await periodic.last_runs(session)
    finally:
        await engine.dispose()
    out = [f"pending/running jobs: {len(active)}", *map(_line, active), f"dead jobs: {len(dead)}", *map(_line, dead)]
    out.append("periodic jobs:")
    for spec in periodic_jobs(settings):
        ran = last.get(spec.name)
        seen = f", last period {ran.period_start:%Y-%m-%d %H:%M} by {ran.owner}" if ran else ", never run"
        out.append(f"  {spec.name:<14} every {spec.every}, next {spec.next_run(now):%Y-%m-%d %H:%M:%S} UTC{seen}")
    return out


async def retry(settings: Settings, job_id: int) -> bool:
    """Re-queue one dead job now; False when there is no dead job with that id."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            return await jobs.retry(session, job_id=job_id, now=utcnow())
    finally:
        await engine.dispose()
