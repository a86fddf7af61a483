"""Periodic job executors besides reconciliation: the managers' digest and the webhook-subscription check."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.approvals import digest as core
from bot.blocks import digest as blocks
from bot.features.requests.slack_effects import call, post_once
from bot.jobs.errors import GiveUp
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from bot.shopify import app_config
from bot.shopify import documents as gql
from storage import audit, shops, tracking
from storage.db import transaction
from storage.models import Job

log = logging.getLogger(__name__)


def _sla(rt: Runtime, policy_id: str) -> timedelta:
    # The same rule as the reports: expiry, else escalation, else the default (0 means no SLA).
    policy = rt.policies.get(policy_id)
    t = policy.timers if policy else None
    found = t and (t.expire_after or t.escalate_after)
    return found or timedelta(seconds=rt.settings.sla_default_s or 10 ** 9)


async def send_digest(rt: Runtime, job: Job) -> Apply | None:
    """DM the daily digest to every manager (each post tagged with the job, so a retry never doubles it)."""
    managers = await rt.directory.expand(rt.policies.roles.managers)
    if not managers:
        log.info("digest: no managers configured (roles.managers in the policy file)")
        return None
    now = rt.now()
    async with rt.sessions() as session:
        rows = [core.Row(r.id, r.order_name, r.policy_id, r.status, r.created_at, r.decided_at)
                for r in await tracking.all_since(session, since=now - core.DAY)]
    summary = core.summarise(rows, now=now, sla_for=lambda pid: _sla(rt, pid))
    for user in managers:
        opened = await call(rt.slack.conversations_open(users=user))
        await post_once(rt, job, channel=opened["channel"]["id"], text=blocks.text_fallback(summary),
                        blocks=blocks.build(summary))
    return None


def _callback(rt: Runtime) -> str | None:
    base = rt.settings.public_url.strip().rstrip("/")
    return f"{base}/shopify/webhooks" if base else None


async def check_webhooks(rt: Runtime, job: Job) -> Apply | None:
    """Re-create the shop's missing webhook subscriptions (Shopify deletes one after its deliveries keep failing)."""
    shop, callback = job.payload["shop"], _callback(rt)
    if callback is None:
        log.warning("webhook check %s: HOLDFAST_PUBLIC_URL is not set, so the callback URL is unknown", shop)
        return None
    client = await rt.shopify.get(shop)
    have, cursor = set(), None
    while True:
        result = await client.execute(gql.WEBHOOK_SUBSCRIPTIONS, {"first": 50, "after": cursor}, background=True,
                                      name="WebhookSubscriptions")
        conn = result.root("webhookSubscriptions")
        have |= {n["topic"] for n in conn.get("nodes") or [] if n.get("uri") == callback}
        page = conn.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        cursor = page.get("endCursor")
    # A shop installed through /shopify/install gets the app configuration's app-scoped subscriptions
    # (shopify.app.toml): a shop-scoped copy of one would deliver every event twice.
    async with rt.sessions() as session:
        grant = await shops.grant_type(session, domain=shop)
    declared = app_config.load().topic_enums() if grant == shops.AUTHORIZATION_CODE else frozenset()
    missing = [t for t in rt.settings.webhook_topic_list() if t not in have and t not in declared]
    for topic in missing:
        result = await client.execute(gql.WEBHOOK_SUBSCRIPTION_CREATE,
                                      {"topic": topic, "sub": {"uri": callback, "format": "JSON"}},
                                      name="WebhookSubscriptionCreate")
        errors = result.user_errors("webhookSubscriptionCreate")
        if errors:
            raise GiveUp(f"webhookSubscriptionCreate {topic}: {errors[0].get('message')}")
        async with transaction(rt.sessions) as session:
            await audit.append(session, at=rt.now(), actor="holdfast", kind="webhook.subscribed", shop_domain=shop,
                               data={"topic": topic, "callback_url": callback, "reason": "missing"})
    return None
