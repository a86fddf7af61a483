"""The internal-order feature's job kinds: the draft order's life in Shopify, and the requester's DM."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.internal_orders import executors
from bot.jobs.registry import JobSpec
from bot.jobs.slack_calls import deferrable

JOBS = (
    JobSpec(JobKind.DRAFT_CREATE, executors.draft_create, on_dead=executors.draft_create_failed, calls_shopify=True),
    JobSpec(JobKind.DRAFT_COMPLETE, executors.draft_complete, on_dead=executors.draft_complete_failed,
            calls_shopify=True),
    JobSpec(JobKind.DRAFT_REJECT, executors.draft_reject, calls_shopify=True),
    JobSpec(JobKind.REQUESTER_DM, deferrable(executors.requester_dm)),
)
