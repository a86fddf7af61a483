"""The upkeep feature's job kinds: the managers' daily digest and the webhook-subscription check."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.upkeep import service
from bot.jobs.registry import JobSpec

# The digest posts to several managers in one run, so it is not deferrable (a deferral would repeat them).
JOBS = (
    JobSpec(JobKind.DIGEST, service.send_digest),
    JobSpec(JobKind.WEBHOOK_CHECK, service.check_webhooks, calls_shopify=True),
)
