"""App Home job executors: who sees a request, and republishing one user's Home."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.home import service as home
from bot.jobs.errors import GiveUp
from bot.jobs.registry import Apply
from bot.jobs.slack_calls import call
from bot.runtime import Runtime
from storage.models import Job

log = logging.getLogger(__name__)


async def home_refresh(rt: Runtime, job: Job) -> Apply | None:
    """Queue a Home publish for everyone who can see the request (a burst of votes publishes each Home once)."""
    users = await home.audience(rt, request_id=job.payload["request_id"])

    async def apply(session: AsyncSession) -> None:
        await home.queue_publish(session, rt, users=users)

    return apply


async def home_publish(rt: Runtime, job: Job) -> Apply | None:
    """Republish one user's Home tab."""
    try:
        await call(home.publish(rt, job.payload["user"]))
    except GiveUp as exc:  # e.g. a deactivated user: nothing to retry
        log.warning("App Home of %s not refreshed: %s", job.payload["user"], exc)
    return None
