"""The privacy feature's job kind: one privacy webhook's work (bot/features/privacy/executors.py)."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.privacy import executors
from bot.jobs.registry import JobSpec

JOBS = (JobSpec(JobKind.PRIVACY_REQUEST, executors.privacy_request),)
