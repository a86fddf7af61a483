"""Reconciliation with Shopify: missed orders, changes made outside holdfast, decisions whose effects did not land."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.approvals import orders
from bot.approvals import reconcile as core
from bot.approvals.effects import JobKind, shopify_key
from bot.approvals.machine import HOLD_HANDLE, Status
from bot.approvals.policies import match
from bot.features.home import service as home
from bot.features.requests.common import redraw, say_in_thread
from bot.features.requests.flagging import flag_order
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from bot.shopify import documents as gql
from storage import audit, periodic, requests, shops, tracking
from storage.db import transaction
from storage.models import ApprovalRequest, Job

log = logging.getLogger(__name__)
OVERLAP = timedelta(minutes=2)
IDS_PER_CALL = 50


@dataclass
class Report:
    """What one reconciliation of a shop did (logged, and returned to tests and the CLI)."""

    pages: int = 0
    orders_seen: int = 0
    created: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # orders older than the shop's history here: not checked


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _missed_orders(rt: Runtime, shop: str, report: Report) -> None:
    """(a) Orders changed since the watermark that match a policy but have no request: flag them like a webhook."""
    client = await rt.shopify.get(shop)
    async with rt.sessions() as session:
        mark = await periodic.watermark(session, shop=shop)
        floor = rt.settings.reconcile_since or await shops.installed_at(session, domain=shop)
    first = mark is None
    mark = mark or rt.now() - timedelta(seconds=rt.settings.reconcile_lookback_s)
    query, cursor, seen = core.watermark_query(mark, OVERLAP, rt.now()), None, []
    while True:
        variables = {"first": rt.settings.reconcile_page_size, "after": cursor, "query": query}
        result = await client.execute(gql.RECONCILE_ORDERS, variables, name="ReconcileOrders", background=True)
        conn = result.root("orders")
        report.pages += 1
        for node in conn.get("nodes") or []:
            report.orders_seen += 1
            seen.append(_when(node["updatedAt"]))
            if core.before_install(node.get("createdAt"), floor):
                report.history.append(node.get("name") or node.get("id"))
                continue
            await _maybe_flag(rt, shop, node, report)
        page = conn.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        cursor = page.get("endCursor")
    async with transaction(rt.sessions) as session:
        await periodic.set_watermark(session, shop=shop, at=core.advance(mark, seen), now=rt.now())
        if first and report.history:
            await audit.append(session, at=rt.now(), actor="holdfast", kind="reconcile.history_skipped",
                               shop_domain=shop, data={"orders": len(report.history), "before": floor.isoformat()})
    if first and report.history:
        # Loud: either this is a new install (fine), or this database replaced another (a move to PostgreSQL, a
        # start from another directory) and the operator should know why those orders are not looked at.
        log.warning("reconcile %s: this database has no history of the shop before %s, but Shopify has %d order(s) "
                    "from before then (%s); they are not checked or held. If this database replaced another, start "
                    "with `holdfast serve --since 24h` (or HOLDFAST_RECONCILE_SINCE) to check them",
                    shop, floor.isoformat(timespec="minutes"), len(report.history), ", ".join(report.history[:5]))


async def _maybe_flag(rt: Runtime, shop: str, node: dict[str, Any], report: Report) -> None:
    if not core.should_flag(core.order_state(node)):
        return
    try:
        facts = orders.from_graphql(node)
    except orders.OrderPayloadError as exc:
        log.warning("reconcile %s: unreadable order %s: %s", shop, node.get("id"), exc)
        return
    hit = match(rt.policies, facts)
    if hit is None:
        return
    try:
        async with transaction(rt.sessions) as session:
            if await flag_order(rt, session, shop=shop, order=facts, match=hit, source="reconcile"):
                report.created.append(facts.name)
    except IntegrityError:
        pass  # a webhook created it between our check and our insert: the unique (shop, order) kept one
    rt.wake_worker()


def _tracked(rt: Runtime, req: ApprovalRequest) -> core.Tracked:
    policy = rt.policies.get(req.policy_id)
    return core.Tracked(id=req.id, status=req.status, hold_state=req.hold_state, hold_ids=tuple(req.hold_ids),
                        pending_tag=policy.tags.pending if policy else "holdfast-pending", decided_at=req.decided_at)


async def _states(rt: Runtime, shop: str, gids: list[str]) -> dict[str, core.OrderState]:
    """The current Shopify state of these orders, a batch of ids per call."""
    client = await rt.shopify.get(shop)
    out: dict[str, core.OrderState] = {}
    for i in range(0, len(gids), IDS_PER_CALL):
        batch = {"ids": gids[i:i + IDS_PER_CALL]}
        result = await client.execute(gql.ORDERS_STATE, batch, name="OrdersState", background=True)
        for node in result.data.get("nodes") or []:
            if node and node.get("id"):
                out[node["id"]] = core.order_state(node)
    return out


async def _pending(rt: Runtime, shop: str, report: Report) -> None:
    """(b) Pending requests whose order was cancelled, fulfilled or deleted, or whose hold changed outside holdfast."""
    async with rt.sessions() as session:
        pending = await tracking.pending_in_shop(session, shop=shop)
    states = await _states(rt, shop, [r.order_gid for r in pending])
    for req in pending:
        change = core.check_pending(_tracked(rt, req), states.get(req.order_gid))
        if change is not None:
            async with transaction(rt.sessions) as session:
                if await _apply_change(rt, session, req, change):
                    (report.closed if isinstance(change, core.Close) else report.refreshed).append(req.order_name)
    rt.wake_worker()


async def _apply_change(rt: Runtime, session, req: ApprovalRequest, change) -> bool:
    now = rt.now()
    common = {"at": now, "actor": "shopify", "shop_domain": req.shop_domain, "request_id": req.id}
    if isinstance(change, core.Close):
        if not await requests.compare_and_set(session, request_id=req.id, version=req.version, now=now,
                                              status=Status.CLOSED, decided_by="shopify", decided_at=now):
            return False  # decided meanwhile
        await audit.append(session, kind="request.closed", data={
            "changed_outside_holdfast": f"order {change.reason}", "order": req.order_name}, **common)
        home.refresh_jobs(session, rt, request_id=req.id)  # it left everyone's queue
        say_in_thread(rt, session, req, f":no_entry_sign: Order {req.order_name} was {change.reason} in Shopify "
                                         "outside holdfast; this request is closed.")
    elif isinstance(change, core.HoldReleased):
        # "released" even when some holds remain: never re-hold what a person chose to release.
        await tracking.set_hold_ids(session, request_id=req.id, state="released", hold_ids=list(change.remaining),
                                    error=None, now=now)
        await audit.append(session, kind="hold.released_outside", data={
            "changed_outside_holdfast": "hold released", "hold_ids": list(change.released),
            "remaining": list(change.remaining)}, **common)
        say_in_thread(rt, session, req, f":warning: Someone released holdfast's hold on order {req.order_name} in "
                                         "Shopify, outside holdfast. It may ship before a decision.")
    else:
        await audit.append(session, kind="hold.changed_outside", data={
            "changed_outside_holdfast": "fulfillment orders without our hold",
            "fulfillment_orders": list(change.fulfillment_orders)}, **common)
        policy = rt.policies.get(req.policy_id)
        notes = (policy.hold_notes if policy else None) or "Held by holdfast for approval"
        rt.enqueue(session, JobKind.HOLD, key=shopify_key(req.shop_domain, req.order_gid),
                   payload={"request_id": req.id, "order_gid": req.order_gid, "handle": HOLD_HANDLE,
                            "notes": notes[:255]})
    redraw(rt, session, req)
    return True


async def _decided(rt: Runtime, shop: str, report: Report) -> None:
    """(c) Decided requests whose Shopify effects did not land: queue them again."""
    now = rt.now()
    since = now - timedelta(seconds=rt.settings.reconcile_decided_lookback_s)
    async with rt.sessions() as session:
        decided = await tracking.decided_since(session, shop=shop, since=since,
                                               statuses=(Status.APPROVED, Status.REJECTED, Status.EXPIRED))
        busy = await tracking.busy_keys(session, keys=[shopify_key(shop, r.order_gid) for r in decided])
    states = await _states(rt, shop, [r.order_gid for r in decided])
    grace = timedelta(seconds=rt.settings.reconcile_grace_s)
    for req in decided:
        key = shopify_key(shop, req.order_gid)
        fix = core.check_decided(_tracked(rt, req), states.get(req.order_gid), now=now, grace=grace, busy=key in busy)
        if fix is None:
            continue
        policy = rt.policies.get(req.policy_id)
        async with transaction(rt.sessions) as session:
            if fix.release:
                rt.enqueue(session, JobKind.RELEASE, key=key, payload={
                    "request_id": req.id, "order_gid": req.order_gid, "handle": HOLD_HANDLE, "report": True})
            if fix.tags and policy is not None:
                done = {"approved": policy.tags.approved, "rejected": policy.tags.rejected,
                        "expired": policy.tags.expired}[req.status]
                rt.enqueue(session, JobKind.TAGS, key=key, payload={
                    "request_id": req.id, "order_gid": req.order_gid, "add": [done], "remove": [policy.tags.pending]})
            await audit.append(session, at=now, actor="holdfast", kind="effects.requeued", shop_domain=shop,
                               request_id=req.id, data=fix.detail)
        report.requeued.append(req.order_name)
    rt.wake_worker()


async def reconcile_shop(rt: Runtime, shop: str) -> Report:
    """One full pass over a shop, through the GraphQL client (paginated; the client paces by the cost bucket)."""
    report = Report()
    await _missed_orders(rt, shop, report)
    await _pending(rt, shop, report)
    await _decided(rt, shop, report)
    log.info("reconciled %s: %d order(s) on %d page(s), created %s, closed %s, refreshed %s, requeued %s", shop,
             report.orders_seen, report.pages, report.created, report.closed, report.refreshed, report.requeued)
    return report


async def run_reconcile(rt: Runtime, job: Job) -> Apply | None:
    """Executor of a `shopify.reconcile` job (one per shop per period)."""
    await reconcile_shop(rt, job.payload["shop"])
    return None
