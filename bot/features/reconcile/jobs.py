"""The reconciliation feature's job kind: one pass over one shop (queued by the scheduler)."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.reconcile import service
from bot.jobs.registry import JobSpec

JOBS = (JobSpec(JobKind.RECONCILE, service.run_reconcile, calls_shopify=True),)
