"""The reconciliation feature's job kind: one pass over one shop (queued by the scheduler)."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.reconcile import service
from bot.jobs.registry import JobSpec

# A pass reads page after page in the bucket's lulls: it may take long, but not for ever.
JOBS = (JobSpec(JobKind.RECONCILE, service.run_reconcile, calls_shopify=True, timeout_s=1800.0),)
