"""The registry of job executors (kind → executor) and of what to do when a job goes dead."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import orders
from bot.approvals.machine import JobKind
from bot import flood, reconcile, upkeep
from bot.approvals.policies import match
from bot.jobs import shopify_effects as shopify
from bot.jobs import slack_effects as slack
from bot.jobs import internal_effects as internal
from bot.jobs import timers
from bot.jobs.flood_effects import summary as flood_summary
from bot.jobs.slack_calls import deferrable
from bot.jobs.errors import GiveUp
from bot.jobs.worker import Apply
from bot.shopify import documents as gql
from bot.runtime import Runtime
from bot.workflow import flag_order
from storage.models import Job


async def process_order(rt: Runtime, job: Job) -> Apply | None:
    """Match a webhook's order against the policies; flag it in the apply step."""
    p = job.payload
    try:
        facts = orders.from_webhook(p["order"])
    except orders.OrderPayloadError as exc:
        raise GiveUp(f"unreadable order payload: {exc}") from None
    if rt.policies.needs_graphql:
        client = await rt.shopify.get(p["shop"])
        node = (await client.execute(gql.ORDER_ENRICHMENT, {"id": facts.gid}, name="OrderEnrichment")).root("order")
        facts = orders.enrich(facts, node)
    hit = match(rt.policies, facts)
    if hit is None or await internal.approved_elsewhere(rt, p["shop"], p["order"]):
        return None  # not flagged, or an approved /order-request's own order (no approval loop)

    async def apply(session: AsyncSession) -> None:
        await flag_order(rt, session, shop=p["shop"], order=facts, match=hit, source=p.get("topic", "webhook"))

    return apply


# Slack executors that post at most one message a run wait out a busy channel or a 429 without spending
# attempts (slack_calls.deferrable); the digest posts to several managers in one run, so it does not.
EXECUTORS = {
    JobKind.PROCESS_ORDER: process_order,
    JobKind.HOLD: shopify.hold,
    JobKind.RELEASE: shopify.release,
    JobKind.TAGS: shopify.tags,
    JobKind.NOTE: shopify.note,
    JobKind.CANCEL: shopify.cancel,
    JobKind.CANCEL_CHECK: shopify.cancel_check,
    JobKind.POST_REQUEST: deferrable(slack.post_request),
    JobKind.UPDATE_REQUEST: deferrable(timers.with_copies(slack.update_request)),  # escalated copies too
    JobKind.EPHEMERAL: deferrable(slack.ephemeral),
    JobKind.THREAD_NOTICE: deferrable(slack.thread_notice),
    JobKind.DM: deferrable(slack.direct_message),
    JobKind.TIMER: timers.fire,
    JobKind.POST_COPY: deferrable(timers.post_copy),
    JobKind.RECONCILE: reconcile.run_reconcile,
    JobKind.WEBHOOK_CHECK: upkeep.check_webhooks,
    JobKind.DIGEST: upkeep.send_digest,
    JobKind.DRAFT_CREATE: internal.draft_create,
    JobKind.DRAFT_COMPLETE: internal.draft_complete,
    JobKind.DRAFT_REJECT: internal.draft_reject,
    JobKind.REQUESTER_DM: deferrable(internal.requester_dm),
    flood.FLOOD_SUMMARY: deferrable(flood_summary),
}
ON_DEAD = {
    JobKind.HOLD: shopify.hold_failed,
    JobKind.RELEASE: shopify.outcome_failed,
    JobKind.CANCEL: shopify.outcome_failed,
    JobKind.CANCEL_CHECK: shopify.outcome_failed,
    JobKind.DRAFT_CREATE: internal.draft_create_failed,
    JobKind.DRAFT_COMPLETE: internal.draft_complete_failed,
}
