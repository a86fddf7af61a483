"""What holdfast stores about one customer, and erasing it; erasing what it stores about a shop.

Shopify's rules (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance): a data request's data goes
to the store owner, who answers the customer; a customer redaction erases the customer's personal data (Shopify
sends it 10 days after the request, or 6 months after if the customer ordered in the last 6 months, and lists
`orders_to_redact`); a shop redaction, 48 hours after the app is uninstalled, erases the shop's data; each is to
be done within 30 days. holdfast does each in one job, within seconds of the webhook.

A customer is found by the orders Shopify names, by the stored order webhooks whose body has the customer's id or
email, and by the requests whose order snapshot has the email; their requests' audit rows follow by request id.
What a customer redaction erases (README, "Privacy webhooks"):
- a request's order snapshot: PERSONAL_SNAPSHOT (set to null) and its reasons (they quote the order's values);
- an internal request's input: its ship-to address and typed fields;
- the fields approvers typed on its votes, and the erasable part of its audit rows (storage/audit.py);
- the stored order webhooks (the order jobs' payloads), down to the order's id and name;
- finished jobs that quoted the request (a thread notice's or a DM's text, a decision note's fields);
- what the Slack message shows: its fingerprint is forgotten and it is redrawn from the redacted request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import (
    JobKind,
    fulfillment_order_key,
    order_key,
    periodic_key,
    shopify_key,
    slack_key,
)
from bot.features.privacy.payloads import Subject
from bot.features.requests.common import redraw
from bot.ingest import PRIVACY_TOPICS
from bot.runtime import Runtime
from storage import audit
from storage import privacy as store
from storage.models import ApprovalRequest, AuditEvent, Decision, Job

PERSONAL_SNAPSHOT = ("customer_name", "customer_email", "customer_phone", "email", "phone", "shipping_address",
                     "billing_address", "note", "note_attributes")
ERASED = "(erased at the customer's request)"
_ORDER_GID = "gid://shopify/Order/"


def _legacy(gid: str | None) -> str | None:
    return gid[len(_ORDER_GID):] if gid and gid.startswith(_ORDER_GID) else None


@dataclass(frozen=True)
class Found:
    """What holdfast stores about one customer of one shop."""

    requests: list[ApprovalRequest]
    decisions: list[Decision]
    order_jobs: list[Job]  # the stored order webhooks (their bodies as Shopify sent them)

    @property
    def request_ids(self) -> list[int]:
        return [r.id for r in self.requests if r.id is not None]


async def find(session: AsyncSession, *, shop: str, who: Subject) -> Found:
    """The customer's requests, votes and stored order webhooks."""
    kind = JobKind.PROCESS_ORDER.value
    named = await store.orders_of_customer(session, key_prefix=order_key(shop, ""), kind=kind,
                                           customer_id=who.customer_id, email=who.email)
    orders = set(who.orders) | set(named)
    reqs = await store.requests_of_customer(session, shop=shop, order_gids=[_ORDER_GID + o for o in orders],
                                            email=who.email)
    orders |= {o for r in reqs for o in (_legacy(r.order_gid), _legacy(r.placed_order_gid)) if o}
    jobs = await store.jobs_by_key(session, kind=kind, keys=[order_key(shop, o) for o in orders])
    decisions = await store.decisions_of(session, request_ids=[r.id for r in reqs if r.id is not None])
    return Found(reqs, decisions, jobs)


def _event(row: AuditEvent) -> dict[str, Any]:
    erased = row.personal is None and row.personal_digest is not None
    return {"id": row.id, "at": row.at, "actor": row.actor, "kind": row.kind, "data": row.data,
            "personal": "erased" if erased else audit.personal_values(row)}


def export(*, shop: str, who: Subject, found: Found, events: list[AuditEvent], now: datetime) -> dict[str, Any]:
    """The data request's file: every stored row about the customer, as stored."""
    votes: dict[int, list[dict[str, Any]]] = {}
    for d in found.decisions:
        votes.setdefault(d.request_id, []).append({"user": d.user_id, "vote": d.vote, "fields": d.fields, "at": d.at})
    trail: dict[int | None, list[dict[str, Any]]] = {}
    for row in events:
        trail.setdefault(row.request_id, []).append(_event(row))
    return {
        "shop": shop, "generated_at": now, "data_request": who.data_request_id,
        "customer": {"id": who.customer_id, "email": who.email}, "orders_requested": list(who.orders),
        "requests": [{
            "id": r.id, "kind": r.kind, "order_gid": r.order_gid, "order_name": r.order_name, "status": r.status,
            "policy_id": r.policy_id, "reasons": r.reasons, "order_snapshot": r.order_snapshot,
            "request_input": r.request_input or None, "placed_order_gid": r.placed_order_gid,
            "created_at": r.created_at, "decided_at": r.decided_at, "decided_by": r.decided_by,
            "votes": votes.get(r.id or 0, []), "audit": trail.get(r.id, []),
        } for r in found.requests],
        "order_webhooks": [{"received_at": j.created_at, "topic": j.payload.get("topic"),
                            "order": j.payload.get("order")} for j in found.order_jobs],
    }


def _snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {**snapshot, **{k: None for k in PERSONAL_SNAPSHOT if k in snapshot}}


def _request_input(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, **{k: {} for k in ("ship_to", "fields") if k in data}}


def _order_job(payload: dict[str, Any]) -> dict[str, Any]:
    order = payload.get("order") if isinstance(payload.get("order"), dict) else {}
    kept = {k: order[k] for k in ("id", "admin_graphql_api_id", "name") if k in order}
    return {**payload, "order": kept, "redacted": True}


def _finished_job(payload: dict[str, Any]) -> dict[str, Any]:
    out = dict(payload)
    if isinstance(out.get("text"), str):
        out["text"] = ERASED
    if isinstance(out.get("note"), dict) and out["note"].get("fields"):
        out["note"] = {**out["note"], "fields": {}}
    return out


async def redact_customer(rt: Runtime, session: AsyncSession, *, shop: str, who: Subject) -> dict[str, Any]:
    """Erase the customer's personal data (in the caller's transaction); what was erased, with no personal data."""
    found = await find(session, shop=shop, who=who)
    ids = found.request_ids
    for req in found.requests:
        await store.set_request_data(session, request_id=req.id, order_snapshot=_snapshot(req.order_snapshot),
                                     request_input=_request_input(req.request_input or {}), reasons=[ERASED])
    for job in found.order_jobs:
        await store.set_payload(session, job_id=job.id, payload=_order_job(job.payload))
    finished = await store.finished_jobs_of(session, request_ids=ids)
    quoted = [j for j in finished if _finished_job(j.payload) != j.payload]
    for job in quoted:
        await store.set_payload(session, job_id=job.id, payload=_finished_job(job.payload))
    votes = await store.clear_fields(session, request_ids=ids)
    rows = await audit.erase(session, request_ids=ids)
    for req in found.requests:
        if req.message_ts:
            redraw(rt, session, req)  # the message showed the customer: drawn again from the redacted request
    return {"requests": ids, "order_webhooks": len(found.order_jobs), "jobs": len(quoted), "votes": votes,
            "audit_rows": rows}


async def redact_shop(session: AsyncSession, *, shop: str) -> dict[str, Any]:
    """Delete the shop's requests, votes, copies, jobs, receipts and watermark, and erase its audit rows' personal
    data (the rows stay: they are the chain). What went, with no personal data."""
    ids = await store.request_ids_of_shop(session, shop=shop)
    rows = await audit.erase(session, request_ids=ids, shop=shop)
    lanes = [order_key(shop, ""), shopify_key(shop, ""), slack_key(shop, ""), fulfillment_order_key(shop, "")]
    counts = await store.delete_shop(session, shop=shop, key_prefixes=lanes,
                                     keys=[periodic_key(k, shop) for k in (JobKind.RECONCILE, JobKind.WEBHOOK_CHECK)],
                                     keep_topics=PRIVACY_TOPICS)
    return {**counts, "audit_rows": rows}
