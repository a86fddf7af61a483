"""The App Home feature's job kinds: find everyone who sees a request, then republish each one's Home."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.home import executors
from bot.jobs.registry import JobSpec

JOBS = (
    JobSpec(JobKind.HOME_REFRESH, executors.home_refresh),
    JobSpec(JobKind.HOME_PUBLISH, executors.home_publish),
)
