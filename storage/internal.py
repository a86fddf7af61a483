"""Internal-order requests (/order-request): the requester's list and the draft's state transitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApprovalRequest


async def mine(session: AsyncSession, *, requester: str, limit: int = 20) -> list[ApprovalRequest]:
    """A requester's internal orders, newest first."""
    query = (select(ApprovalRequest).where(ApprovalRequest.requester == requester, ApprovalRequest.kind == "internal")
             .order_by(col(ApprovalRequest.created_at).desc(), col(ApprovalRequest.id).desc()).limit(limit))
    return list((await session.exec(query)).all())


async def transition(session: AsyncSession, *, request_id: int, version: int, statuses: tuple[str, ...],
                     now: datetime, **values: Any) -> bool:
    """Compare-and-set from any of `statuses` (the vote path's compare_and_set knows only "pending")."""
    result = await session.exec(
        update(ApprovalRequest)
        .where(col(ApprovalRequest.id) == request_id, ApprovalRequest.version == version,
               col(ApprovalRequest.status).in_(statuses))
        .values(version=version + 1, updated_at=now, **values))
    return result.rowcount == 1


async def set_fields(session: AsyncSession, *, request_id: int, now: datetime, **values: Any) -> None:
    """Record what a job learned (draft state, the placed order, the DM's ts) without touching the version."""
    await session.exec(update(ApprovalRequest).where(col(ApprovalRequest.id) == request_id)
                       .values(updated_at=now, **values))
