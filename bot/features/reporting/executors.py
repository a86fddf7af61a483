"""Job executors for reports and App Home: the audit CSV to a DM, and Home refreshes after a vote."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.reporting import service as reporting
from bot.features.requests.slack_effects import call
from bot.jobs.registry import Apply
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
