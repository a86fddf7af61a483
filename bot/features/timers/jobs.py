"""The timers feature's job kinds: a request's reminders, escalation and expiry, and its escalation copies."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.timers import executors
from bot.jobs.registry import JobSpec
from bot.jobs.slack_calls import deferrable

JOBS = (
    JobSpec(JobKind.TIMER, executors.fire),
    JobSpec(JobKind.POST_COPY, deferrable(executors.post_copy)),
)
