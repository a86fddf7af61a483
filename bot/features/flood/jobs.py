"""The flood feature's job kind: post or redraw a flooded channel's summary."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.flood import executors
from bot.jobs.registry import JobSpec
from bot.jobs.slack_calls import deferrable

JOBS = (JobSpec(JobKind.FLOOD_SUMMARY, deferrable(executors.summary)),)
