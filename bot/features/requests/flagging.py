"""Flagging an order: match it against the policies, then create the request, its audit row and its jobs at once.

The data flow of a webhook (or of a reconciliation pass that found a missed order): the order job runs
`process_order`, which reads what the policies need (one GraphQL call when a policy asks for facts webhooks do not
carry), matches, and in the job's finishing transaction `flag_order` writes the request, its audit row, its effect
jobs (hold, post) and its timers, all or nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import internal, machine, orders, timers
from bot.approvals import reconcile as core
from bot.approvals.machine import Status
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match, facts_from, match
from bot.features.flood import service as flood
from bot.features.requests.common import enqueue_effects, enqueue_timer
from bot.jobs.errors import GiveUp
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from bot.shopify import documents as gql
from storage import audit, requests, shops
from storage.models import ApprovalRequest, Job

log = logging.getLogger(__name__)


async def flag_order(rt: Runtime, session: AsyncSession, *, shop: str, order: OrderFacts, match: Match,
                     source: str) -> ApprovalRequest | None:
    """Create the request for a flagged order unless one exists (webhook and poll may both see it), Shopify says
    holdfast decided it already (a decision tag), or it is older than the shop's history here."""
    if await requests.by_order(session, shop=shop, order_gid=order.gid):
        return None
    if tag := core.decided_before(order.order_tags, rt.policies.decision_tags):
        log.info("%s %s not flagged: it carries %s, a decision holdfast made before", shop, order.name, tag)
        return None
    floor = rt.settings.reconcile_since or await shops.installed_at(session, domain=shop)
    if core.before_install(order.created_at, floor):
        log.info("%s %s not flagged: created before %s, the start of this database's history of the shop "
                 "(holdfast serve --since to look further back)", shop, order.name, floor.isoformat(timespec="minutes"))
        return None
    new = machine.flag(shop, order, match)
    now = rt.now()
    policy = match.policy
    sources = facts_from(rt.policies, order)  # which facts the webhook had, which GraphQL read, which were missing
    req = await requests.create(
        session, shop_domain=shop, order_gid=order.gid, order_name=order.name, status=Status.PENDING, version=0,
        policy_id=policy.id, policy_hash=rt.policies.file_hash, reasons=list(match.reasons),
        order_snapshot={**order.snapshot(), "facts_from": sources}, channel=policy.channel, created_at=now,
        updated_at=now,
        creator=rt.policies.staff.get(order.staff_user_id or ""),
    )
    # The reasons quote what the order matched on (a note attribute, a tag, a code): personal, so erasable.
    facts = {k: v for k, v in new.audit.items() if k != "reasons"}
    await audit.append(session, at=now, actor="holdfast", kind="request.created", shop_domain=shop,
                       request_id=req.id, data={**facts, "order": order.name, "source": source,
                                                "policy_hash": rt.policies.file_hash, "facts_from": sources},
                       personal={"reasons": new.audit.get("reasons")})
    enqueue_effects(rt, session, new.effects, request_id=req.id)
    for timer in timers.schedule(policy.timers, now):
        enqueue_timer(rt, session, request_id=req.id, timer=timer)
    await flood.note_request(session, rt, channel=policy.channel, now=now)
    log.info("%s %s flagged by %s (%s): hold and approval message queued for %s", shop, order.name, policy.id, source,
             policy.channel)
    return req


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
    if hit is None or await approved_elsewhere(rt, p["shop"], p["order"]):
        return None  # not flagged, or an approved /order-request's own order (no approval loop)

    async def apply(session: AsyncSession) -> None:
        await flag_order(rt, session, shop=p["shop"], order=facts, match=hit, source=p.get("topic", "webhook"))

    return apply


async def approved_elsewhere(rt: Runtime, shop: str, order: dict[str, Any]) -> bool:
    """True for the order an approved /order-request became: it was approved once, flagging it again would loop.

    The order carries our sourceName, the internal-order tag and the request's id (a custom attribute), and
    that request must be an approved internal request of this shop whose placed order is unknown yet or this
    one. A look-alike order (same tag typed in the admin) names no such request and is matched as usual.
    """
    request_id = internal.own_request_id(order)
    if request_id is None:
        return False
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=request_id)
    gid = f"gid://shopify/Order/{order.get('id')}"
    return (req is not None and req.kind == "internal" and req.shop_domain == shop and req.status == Status.APPROVED
            and req.placed_order_gid in (None, gid))
