"""Queries for the privacy webhooks (bot/features/privacy): whom a stored row is about, and removing it.

They run once per privacy request (rare: Shopify sends them when a customer or a merchant asks), so they may
read a shop's rows through JSON paths without an index of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApprovalRequest, Decision, Job, RequestCopy, ShopWatermark, WebhookReceipt

_JOB = Job.__table__
_REQUEST = ApprovalRequest.__table__
CHUNK = 500  # ids per IN (...): well inside every driver's bound-parameter limit


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    items = sorted(set(values))
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def _text(column: Any, *path: str) -> Any:
    """A JSON member as text on both databases (SQLite's JSON_EXTRACT gives a number for a number)."""
    return cast(column[path].as_string(), String)


async def orders_of_customer(session: AsyncSession, *, key_prefix: str, kind: str, customer_id: str | None,
                             email: str | None) -> dict[str, Job]:
    """The stored order webhooks (jobs of `kind` under `key_prefix`) whose body names this customer by id or email
    (the order's email, its contact email, or its customer's), by the order id that ends their key."""
    tests = []
    if customer_id:
        tests.append(_text(_JOB.c.payload, "order", "customer", "id") == customer_id)
    if email:
        tests += [func.lower(_text(_JOB.c.payload, *path)) == email
                  for path in (("order", "email"), ("order", "contact_email"), ("order", "customer", "email"))]
    if not tests:
        return {}
    query = select(Job).where(Job.kind == kind, col(Job.key).startswith(key_prefix, autoescape=True), or_(*tests))
    return {job.key.rsplit(":", 1)[-1]: job for job in (await session.exec(query)).all()}


async def jobs_by_key(session: AsyncSession, *, kind: str, keys: Iterable[str]) -> list[Job]:
    """Jobs of `kind` with these keys, oldest first."""
    found: list[Job] = []
    for chunk in _chunks(keys):
        found += (await session.exec(select(Job).where(Job.kind == kind, col(Job.key).in_(chunk)))).all()
    return sorted(found, key=lambda j: j.id or 0)


async def requests_of_customer(session: AsyncSession, *, shop: str, order_gids: Iterable[str],
                               email: str | None) -> list[ApprovalRequest]:
    """The shop's requests for these orders (flagged, or placed from an approved internal request), and those whose
    order snapshot has this email."""
    gids = sorted(set(order_gids))
    found: dict[int, ApprovalRequest] = {}
    for chunk in _chunks(gids):
        query = select(ApprovalRequest).where(ApprovalRequest.shop_domain == shop, or_(
            col(ApprovalRequest.order_gid).in_(chunk), col(ApprovalRequest.placed_order_gid).in_(chunk)))
        found.update({r.id: r for r in (await session.exec(query)).all()})
    if email:
        by_email = func.lower(_text(_REQUEST.c.order_snapshot, "customer_email")) == email
        query = select(ApprovalRequest).where(ApprovalRequest.shop_domain == shop, by_email)
        found.update({r.id: r for r in (await session.exec(query)).all()})
    return [found[k] for k in sorted(found)]


async def decisions_of(session: AsyncSession, *, request_ids: Iterable[int]) -> list[Decision]:
    """The votes on these requests, in order."""
    found: list[Decision] = []
    for chunk in _chunks(request_ids):
        found += (await session.exec(select(Decision).where(col(Decision.request_id).in_(chunk)))).all()
    return sorted(found, key=lambda d: d.id or 0)


async def finished_jobs_of(session: AsyncSession, *, request_ids: Iterable[int]) -> list[Job]:
    """Done or dead jobs of these requests (their payloads may quote what the request showed)."""
    found: list[Job] = []
    rid = _JOB.c.payload["request_id"].as_integer()
    for chunk in _chunks(request_ids):
        found += (await session.exec(select(Job).where(rid.in_(chunk), col(Job.status).in_(("done", "dead"))))).all()
    return found


async def set_payload(session: AsyncSession, *, job_id: int, payload: dict[str, Any]) -> None:
    """Replace one job's payload (the privacy work scrubs what it no longer needs to keep)."""
    await session.exec(update(_JOB).where(_JOB.c.id == job_id).values(payload=payload))


async def set_request_data(session: AsyncSession, *, request_id: int, order_snapshot: dict[str, Any],
                           request_input: dict[str, Any], reasons: list[str]) -> None:
    """A request's stored order, input and reasons, redacted; `drawn` forgets what its message showed (so the
    redraw that follows is not skipped as a no-op)."""
    await session.exec(update(_REQUEST).where(_REQUEST.c.id == request_id).values(
        order_snapshot=order_snapshot, request_input=request_input, reasons=reasons, drawn=None))


async def request_ids_of_shop(session: AsyncSession, *, shop: str) -> list[int]:
    """Every request of a shop, by id."""
    return list((await session.exec(select(ApprovalRequest.id).where(ApprovalRequest.shop_domain == shop))).all())


async def clear_fields(session: AsyncSession, *, request_ids: Iterable[int]) -> int:
    """Empty the fields approvers typed on these requests' votes; returns how many votes had some."""
    changed = 0
    for chunk in _chunks(request_ids):
        result = await session.exec(update(Decision.__table__).where(
            Decision.__table__.c.request_id.in_(chunk)).values(fields={}))
        changed += result.rowcount or 0
    return changed


async def delete_shop(session: AsyncSession, *, shop: str, key_prefixes: Iterable[str], keys: Iterable[str],
                      keep_topics: Iterable[str]) -> dict[str, int]:
    """Delete a shop's requests with their votes, copies and jobs (by request id, key prefix and key), its webhook
    receipts (but those of `keep_topics`) and its reconciliation watermark; how many rows of each went."""
    ids = select(ApprovalRequest.id).where(ApprovalRequest.shop_domain == shop).scalar_subquery()
    counts: dict[str, int] = {}

    async def gone(name: str, statement: Any) -> None:
        counts[name] = counts.get(name, 0) + ((await session.exec(statement)).rowcount or 0)

    await gone("jobs", delete(Job).where(_JOB.c.payload["request_id"].as_integer().in_(ids)))
    for prefix in key_prefixes:
        await gone("jobs", delete(Job).where(col(Job.key).startswith(prefix, autoescape=True)))
    await gone("jobs", delete(Job).where(col(Job.key).in_(list(keys))))
    await gone("decisions", delete(Decision).where(col(Decision.request_id).in_(ids)))
    await gone("copies", delete(RequestCopy).where(col(RequestCopy.request_id).in_(ids)))
    await gone("requests", delete(ApprovalRequest).where(ApprovalRequest.shop_domain == shop))
    await gone("receipts", delete(WebhookReceipt).where(WebhookReceipt.shop_domain == shop,
                                                        col(WebhookReceipt.topic).not_in(list(keep_topics))))
    await gone("watermarks", delete(ShopWatermark).where(ShopWatermark.shop_domain == shop))
    return counts
