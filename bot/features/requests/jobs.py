"""The request feature's job kinds: processing an order, its Shopify effects, and its Slack messages."""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.requests import shopify_effects as shopify
from bot.features.requests import slack_effects as slack
from bot.features.requests.flagging import process_order
from bot.features.requests.fulfillment_orders import fulfillment_orders_ready
from bot.jobs.registry import JobSpec
from bot.jobs.slack_calls import deferrable

# Slack executors that post at most one message a run wait out a busy channel or a 429 without spending
# attempts (slack_calls.deferrable).
JOBS = (
    JobSpec(JobKind.PROCESS_ORDER, process_order, calls_shopify=True),
    # Fulfillment orders may appear a little after the order: holds get their own bound.
    JobSpec(JobKind.HOLD, shopify.hold, on_dead=shopify.hold_failed, attempts_setting="hold_max_attempts",
            calls_shopify=True),
    JobSpec(JobKind.RELEASE, shopify.release, on_dead=shopify.outcome_failed, calls_shopify=True),
    JobSpec(JobKind.TAGS, shopify.tags, calls_shopify=True),
    JobSpec(JobKind.CANCEL, shopify.cancel, on_dead=shopify.outcome_failed, calls_shopify=True),
    # Follows Shopify's cancel job, which may take a while: a few more looks than the others get.
    JobSpec(JobKind.CANCEL_CHECK, shopify.cancel_check, on_dead=shopify.outcome_failed, extra_attempts=4,
            calls_shopify=True),
    # A late fulfillment order's webhook: wakes the hold job that waits for it (bot/approvals/holds.py).
    JobSpec(JobKind.FULFILLMENT_ORDERS_READY, fulfillment_orders_ready, calls_shopify=True),
    JobSpec(JobKind.POST_REQUEST, deferrable(slack.post_request)),
    JobSpec(JobKind.UPDATE_REQUEST, deferrable(slack.with_copies(slack.update_request))),  # escalated copies too
    JobSpec(JobKind.EPHEMERAL, deferrable(slack.ephemeral)),
    JobSpec(JobKind.THREAD_NOTICE, deferrable(slack.thread_notice)),
    JobSpec(JobKind.DM, deferrable(slack.direct_message)),
)
