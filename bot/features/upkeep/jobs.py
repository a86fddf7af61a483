"""The upkeep feature's job kinds: the managers' daily digest, the webhook-subscription check, the pruning pass, the audit checkpoint."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.upkeep import checkpoint, retention, service
from bot.jobs.registry import JobSpec

# The digest posts to several managers in one run, so it is not deferrable (a deferral would repeat them).
JOBS = (
    JobSpec(JobKind.DIGEST, service.send_digest),
    JobSpec(JobKind.WEBHOOK_CHECK, service.check_webhooks, calls_shopify=True),
    JobSpec(JobKind.PRUNE, retention.prune, timeout_s=1800.0),
    JobSpec(JobKind.AUDIT_CHECKPOINT, checkpoint.publish_checkpoint),
)
