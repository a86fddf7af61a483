"""Job executors for reports and App Home: the audit CSV to a DM, and Home refreshes after a vote."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import home, reporting
from bot.jobs.errors import GiveUp
from bot.jobs.slack_effects import call
from bot.jobs.worker import Apply
from bot.reports.export import outcomes_csv
from bot.reports.query import Query
from bot.runtime import Runtime
from storage import audit
from storage.models import Job

log = logging.getLogger(__name__)


async def report_csv(rt: Runtime, job: Job) -> Apply | None:
    """Upload the decisions CSV to the user's DM (files.getUploadURLExternal + files.completeUploadExternal)."""
    user, query = job.payload["user"], Query.from_payload(job.payload["query"])
    async with rt.sessions() as session:
        found = await reporting.outcomes(session, rt, query)
    assert query.since and query.until
    name = f"holdfast-audit-{query.since:%Y%m%d}-{query.until:%Y%m%d}.csv"
    dm = await call(rt.slack.conversations_open(users=user))
    await call(rt.slack.files_upload_v2(
        channel=dm["channel"]["id"], filename=name, title=name, content=outcomes_csv(found),
        initial_comment=f"{len(found)} decision(s) from {query.since:%Y-%m-%d %H:%M} to {query.until:%Y-%m-%d %H:%M} UTC."))

    async def apply(session: AsyncSession) -> None:
        # Who took which data out of holdfast is itself part of the audit trail.
        await audit.append(session, at=rt.now(), actor=user, kind="report.exported",
                           data={"file": name, "rows": len(found), "filters": query.payload()})

    return apply


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


EXECUTORS = {reporting.REPORT_CSV: report_csv, home.HOME_REFRESH: home_refresh, home.HOME_PUBLISH: home_publish}
