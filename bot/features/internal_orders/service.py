"""Internal orders: submit, cancel, retry and list, each one transaction of state + audit + jobs."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import internal
from bot.approvals.effects import JobKind, requester_dm_key, shopify_key, slack_key
from bot.approvals.machine import Status
from bot.approvals.schema import Policy
from bot.runtime import Runtime
from bot.shopify import documents as gql
from storage import audit, requests
from storage import internal as store
from storage import shops as stored_shops
from storage.db import transaction
from storage.models import ApprovalRequest

log = logging.getLogger(__name__)
SEARCH_TIMEOUT_S = 2.0  # Slack waits 3 s for options; leave room for the round trip
LOOKUP_TIMEOUT_S = 1.0  # the submission's variant check; the draft job catches what this misses
PLACEHOLDER = "holdfast:draft-pending:"  # order_gid until Shopify has made the draft


async def shops(rt: Runtime) -> list[str]:
    """The shops an internal order may be placed in: those the app is installed on now."""
    async with rt.sessions() as session:
        return await stored_shops.served_shops(session)


def policy_for(rt: Runtime) -> Policy | None:
    """The internal-order policy in force (the first enabled one with `internal:`)."""
    return next((p for p in rt.policies.policies if p.enabled and p.internal is not None), None)


def dm_job(session, rt: Runtime, req: ApprovalRequest, text: str | None = None) -> None:
    """Queue a redraw of the requester's DM about this request (and a one-off line, if given)."""
    rt.enqueue(session, JobKind.REQUESTER_DM, key=requester_dm_key(req.id),
               payload={"request_id": req.id, **({"text": text} if text else {})})


async def submit(rt: Runtime, *, user: str, policy: Policy, sub: internal.Submission) -> ApprovalRequest:
    """Store the request (status drafting) and the job that makes its Shopify draft."""
    now = rt.now()
    gid = PLACEHOLDER + uuid.uuid4().hex
    async with transaction(rt.sessions) as session:
        req = await requests.create(
            session, shop_domain=sub.shop, order_gid=gid, order_name="(draft)", status=Status.DRAFTING, version=0,
            policy_id=policy.id, policy_hash=rt.policies.file_hash, reasons=["internal order requested in Slack"],
            order_snapshot={}, channel=policy.channel, requester=user, created_at=now, updated_at=now,
            kind="internal", draft_state="creating", hold_state="none", request_input=sub.dump())
        await audit.append(session, at=now, actor=user, kind="request.submitted", shop_domain=sub.shop,
                           request_id=req.id, data={"policy": policy.id, **{
                               k: v for k, v in sub.dump().items() if k not in ("ship_to", "fields")}},
                           # Who it goes to, and what the requester typed: erasable (storage/audit.py).
                           personal={"ship_to": sub.ship_to, "fields": sub.fields})
        rt.enqueue(session, JobKind.DRAFT_CREATE, key=shopify_key(sub.shop, gid), payload={"request_id": req.id})
        dm_job(session, rt, req)
    rt.wake_worker()
    return req


async def _requesters_own(session: AsyncSession, *, request_id: int, user: str) -> ApprovalRequest | None:
    """The internal request, if `user` asked for it (only they may cancel or retry it)."""
    req = await requests.get(session, request_id=request_id)
    return req if req is not None and req.kind == "internal" and req.requester == user else None


async def cancel(rt: Runtime, *, request_id: int, user: str) -> str:
    """The requester withdraws a request nobody has decided yet; its draft is tagged or deleted by a job."""
    now = rt.now()
    async with transaction(rt.sessions) as session:
        req = await _requesters_own(session, request_id=request_id, user=user)
        if req is None:
            return "Only the person who asked for this order can cancel it."
        policy = rt.policies.get(req.policy_id)
        if not await store.transition(session, request_id=req.id, version=req.version, now=now,
                                      statuses=(Status.PENDING, Status.DRAFTING), status=Status.CANCELLED,
                                      decided_by=user, decided_at=now):
            return f"Order request {req.order_name} is already {req.status}; nothing was cancelled."
        await audit.append(session, at=now, actor=user, kind="request.cancelled", shop_domain=req.shop_domain,
                           request_id=req.id, data={"order": req.order_name})
        delete = bool(policy and policy.internal and policy.internal.on_reject == "delete")
        # Same key as the draft job: it runs after the draft exists (or finds there is none).
        rt.enqueue(session, JobKind.DRAFT_REJECT, key=shopify_key(req.shop_domain, req.order_gid),
                   payload={"request_id": req.id, "tag": "holdfast-cancelled", "delete": delete,
                            "remove": policy.tags.pending if policy else None})
        if req.message_ts:
            rt.enqueue(session, JobKind.UPDATE_REQUEST, key=slack_key(req.shop_domain, req.order_gid),
                       payload={"request_id": req.id})
        dm_job(session, rt, req)
    rt.wake_worker()
    return f"Order request {req.order_name} is cancelled."


async def retry(rt: Runtime, *, request_id: int, user: str) -> str:
    """Queue again the Shopify step that failed (making the draft, or completing the approved one)."""
    now = rt.now()
    async with transaction(rt.sessions) as session:
        req = await _requesters_own(session, request_id=request_id, user=user)
        if req is None:
            return "Only the person who asked for this order can retry it."
        policy = rt.policies.get(req.policy_id)
        key = shopify_key(req.shop_domain, req.order_gid)
        if req.status == Status.DRAFTING and req.draft_state == "failed":
            rt.enqueue(session, JobKind.DRAFT_CREATE, key=key, payload={"request_id": req.id})
            values: dict[str, Any] = {"draft_state": "creating", "draft_error": None}
        elif req.status == Status.APPROVED and req.outcome_state == "failed" and policy and policy.internal:
            rt.enqueue(session, JobKind.DRAFT_COMPLETE, key=key,
                       payload={"request_id": req.id, "draft_gid": req.order_gid, "tag": policy.tags.approved})
            values = {"outcome_state": "pending", "outcome_error": None}
        else:
            return "Nothing to retry: this request has not failed."
        await store.set_fields(session, request_id=req.id, now=now, **values)
        await audit.append(session, at=now, actor=user, kind="request.retried", shop_domain=req.shop_domain,
                           request_id=req.id, data={"step": "complete" if "outcome_state" in values else "draft"})
        dm_job(session, rt, req)
    rt.wake_worker()
    return "Trying again."


async def mine(rt: Runtime, *, user: str) -> list[ApprovalRequest]:
    """The caller's internal orders, newest first."""
    async with rt.sessions() as session:
        return await store.mine(session, requester=user)


async def search(rt: Runtime, *, shop: str, typed: str, limit: int = 20) -> list[dict[str, Any]]:
    """Variants matching what was typed, within Slack's options time limit (empty on timeout or error)."""
    if len(typed.strip()) < 2:
        return []
    try:
        client = await rt.shopify.get(shop)
        result = await asyncio.wait_for(client.execute(
            gql.PRODUCT_VARIANT_SEARCH, {"query": internal.search_query(typed), "first": limit},
            name="ProductVariantSearch"), SEARCH_TIMEOUT_S)
    except Exception:  # the user sees "no results" and can type again; operators get the log line
        log.exception("variant search failed in %s", shop)
        return []
    return list((result.root("productVariants") or {}).get("nodes") or [])


async def known_variants(rt: Runtime, *, shop: str, gids: list[str]) -> set[str] | None:
    """Which of these variants Shopify knows; None when Shopify did not answer in time (the job checks later)."""
    if not gids:
        return set()
    try:
        client = await rt.shopify.get(shop)
        result = await asyncio.wait_for(client.execute(gql.VARIANTS_BY_ID, {"ids": gids}, name="VariantsById"),
                                        LOOKUP_TIMEOUT_S)
    except Exception:
        log.warning("variant check skipped for %s: Shopify did not answer in time", shop, exc_info=True)
        return None
    return {n["id"] for n in result.data.get("nodes") or [] if n and n.get("id")}
