"""A controllable clock and helpers for end-to-end tests of timers and periodic jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import col, func, or_, select

from storage.models import Job


class Clock:
    """The bot's `now`: starts at the wall clock, moves only when a test says so."""

    def __init__(self, start: datetime | None = None):
        self.t = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> datetime:
        self.t += timedelta(**delta)
        return self.t


async def settle_due(stack, timeout: float = 20.0) -> None:
    """Wait until no job is running or due by the bot's clock (future timers may stay pending)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        now = stack.rt.now()
        async with stack.rt.sessions() as session:
            busy = (await session.exec(select(func.count()).select_from(Job).where(or_(
                Job.status == "running", (Job.status == "pending") & (col(Job.run_at) <= now))))).one()
        if not busy and not await _pass_short_waits(stack, now):
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{busy} due job(s) still pending after {timeout}s")
        await asyncio.sleep(0.02)
        await _pass_short_waits(stack, now)


PACING_WAIT_S = 5.0


async def _pass_short_waits(stack, now: datetime) -> bool:
    """Let the bot's clock pass a Slack pacing wait: a job deferred for a channel's next free slot (`waiting: …`)
    runs a second later by the bot's clock, which only the test moves; the same-key jobs behind it wait for it, so
    without this a burst of posts would stand still (on a fast machine the pacer defers more of them)."""
    if not isinstance(stack.now, Clock):
        return False
    async with stack.rt.sessions() as session:
        soonest = (await session.exec(select(func.min(Job.run_at)).where(
            Job.status == "pending", col(Job.last_error).startswith("waiting:"), col(Job.run_at) > now))).one()
    if soonest is not None:
        soonest = soonest if soonest.tzinfo else soonest.replace(tzinfo=UTC)
        if soonest - now <= timedelta(seconds=PACING_WAIT_S) and stack.now.t < soonest:
            stack.now.t = soonest
            return True
    return False
