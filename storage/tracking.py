"""Queries for timers and reconciliation: votes, escalation copies, requests to compare with Shopify."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApprovalRequest, Job, RequestCopy

ACTIVE = ("pending", "running")


async def add_copy(session: AsyncSession, *, request_id: int, channel: str, ts: str, now: datetime) -> None:
    """Remember another message that shows this request (redrawn when the request changes)."""
    session.add(RequestCopy(request_id=request_id, channel=channel, ts=ts, created_at=now))
    await session.flush()


async def copies(session: AsyncSession, *, request_id: int) -> list[RequestCopy]:
    """Escalation posts and DMs of a request."""
    return list((await session.exec(select(RequestCopy).where(RequestCopy.request_id == request_id)
                                    .order_by(col(RequestCopy.id)))).all())


async def copy_in(session: AsyncSession, *, request_id: int, channel: str) -> RequestCopy | None:
    """The copy of a request already posted in `channel`, if any."""
    return (await session.exec(select(RequestCopy).where(RequestCopy.request_id == request_id,
                                                         RequestCopy.channel == channel))).first()


async def pending_in_shop(session: AsyncSession, *, shop: str, limit: int = 500) -> list[ApprovalRequest]:
    """A shop's pending requests, oldest first."""
    # Internal orders are drafts (no fulfillment orders, not an Order): their jobs follow them, not reconciliation.
    query = (select(ApprovalRequest).where(ApprovalRequest.shop_domain == shop, ApprovalRequest.status == "pending",
                                           ApprovalRequest.kind == "order")
             .order_by(col(ApprovalRequest.created_at)).limit(limit))
    return list((await session.exec(query)).all())


async def decided_since(session: AsyncSession, *, shop: str, since: datetime, statuses: tuple[str, ...],
                        limit: int = 500) -> list[ApprovalRequest]:
    """A shop's requests decided after `since` with one of `statuses`."""
    query = (select(ApprovalRequest).where(ApprovalRequest.shop_domain == shop, col(ApprovalRequest.status).in_(statuses),
                                           col(ApprovalRequest.decided_at) >= since, ApprovalRequest.kind == "order")
             .order_by(col(ApprovalRequest.decided_at)).limit(limit))
    return list((await session.exec(query)).all())


async def all_since(session: AsyncSession, *, since: datetime) -> list[ApprovalRequest]:
    """Requests created or decided after `since`, and every pending one (the digest's input)."""
    query = select(ApprovalRequest).where((ApprovalRequest.status == "pending") |
                                          (col(ApprovalRequest.decided_at) >= since))
    return list((await session.exec(query)).all())


async def busy_keys(session: AsyncSession, *, keys: list[str]) -> set[str]:
    """Which of these job keys still have a pending or running job."""
    if not keys:
        return set()
    rows = await session.exec(select(Job.key).where(col(Job.key).in_(keys), col(Job.status).in_(ACTIVE)))
    return set(rows.all())


async def set_hold_ids(session: AsyncSession, *, request_id: int, state: str, hold_ids: list[str],
                       error: str | None, now: datetime) -> None:
    """Refresh the stored hold after a change made outside holdfast."""
    values: dict[str, Any] = {"hold_state": state, "hold_ids": hold_ids, "hold_error": error, "updated_at": now}
    await session.exec(update(ApprovalRequest).where(col(ApprovalRequest.id) == request_id).values(**values))
