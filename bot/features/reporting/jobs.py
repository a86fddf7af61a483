"""The reporting feature's job kind: the audit CSV uploaded to the caller's DM."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.reporting import executors
from bot.jobs.registry import JobSpec

JOBS = (JobSpec(JobKind.REPORT_CSV, executors.report_csv),)
