"""The install feature's job kind: one app/uninstalled delivery (bot/features/install/executors.py)."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.install import executors
from bot.jobs.registry import JobSpec

JOBS = (JobSpec(JobKind.APP_UNINSTALLED, executors.app_uninstalled),)
