"""Read-only queries behind `/approvals`, App Home and `holdfast audit export` (small, keyword-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApprovalRequest, AuditEvent, Decision

PENDING = "pending"
_CHUNK = 500  # ids per IN (...): well under every backend's bound-parameter limit
# What a report needs of a decided request (not the order snapshot: it is large and unused there).
OUTCOME_COLUMNS = (ApprovalRequest.id, ApprovalRequest.shop_domain, ApprovalRequest.order_name,
                   ApprovalRequest.order_gid, ApprovalRequest.policy_id, ApprovalRequest.status,
                   ApprovalRequest.created_at, ApprovalRequest.decided_at, ApprovalRequest.decided_by)


def _voted_by(user: str) -> Any:
    return col(ApprovalRequest.id).in_(select(Decision.request_id).where(Decision.user_id == user))


def _decided_where(query: Any, *, since: datetime, until: datetime, policy_id: str | None, shop: str | None,
                   statuses: Sequence[str], user: str | None) -> Any:
    query = query.where(ApprovalRequest.status != PENDING, col(ApprovalRequest.decided_at) >= since,
                        col(ApprovalRequest.decided_at) < until)
    if policy_id:
        query = query.where(ApprovalRequest.policy_id == policy_id)
    if shop:
        query = query.where(ApprovalRequest.shop_domain == shop)
    if statuses:
        query = query.where(col(ApprovalRequest.status).in_(list(statuses)))
    if user:
        query = query.where(or_(ApprovalRequest.decided_by == user, _voted_by(user)))
    return query


async def decided(session: AsyncSession, *, since: datetime, until: datetime, policy_id: str | None = None,
                  shop: str | None = None, statuses: Sequence[str] = (), user: str | None = None) -> list[Any]:
    """Requests decided in [since, until), oldest decision first, as rows of OUTCOME_COLUMNS."""
    query = _decided_where(select(*OUTCOME_COLUMNS), since=since, until=until, policy_id=policy_id, shop=shop,
                           statuses=statuses, user=user)
    query = query.order_by(col(ApprovalRequest.decided_at), col(ApprovalRequest.id))
    # Core rows, not ORM objects: a month of decisions is tens of thousands of rows.
    return list((await (await session.connection()).execute(query)).all())


def _seconds(session: AsyncSession) -> Any:
    """Time to decision in seconds, computed by the database (no datetime objects cross the wire)."""
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", col(ApprovalRequest.decided_at) - col(ApprovalRequest.created_at))
    return (func.julianday(ApprovalRequest.decided_at) - func.julianday(ApprovalRequest.created_at)) * 86400.0


async def decided_durations(session: AsyncSession, *, since: datetime, until: datetime, policy_id: str | None = None,
                            shop: str | None = None, statuses: Sequence[str] = (),
                            user: str | None = None) -> list[Any]:
    """(id, policy_id, status, seconds to decision) of the requests `decided` would return: for figures."""
    query = _decided_where(select(ApprovalRequest.id, ApprovalRequest.policy_id, ApprovalRequest.status,
                                  _seconds(session).label("seconds")),
                           since=since, until=until, policy_id=policy_id, shop=shop, statuses=statuses, user=user)
    return list((await (await session.connection()).execute(query)).all())


async def decided_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Any]:
    """Rows of OUTCOME_COLUMNS for these requests (a report's handful of examples)."""
    query = select(*OUTCOME_COLUMNS).where(col(ApprovalRequest.id).in_(list(ids)[:_CHUNK]))
    return list((await (await session.connection()).execute(query)).all())


async def vote_counts(session: AsyncSession, *, since: datetime, until: datetime, policy_id: str | None = None,
                      shop: str | None = None, statuses: Sequence[str] = (), user: str | None = None) -> list[Any]:
    """(user, vote, count) over the votes on the requests `decided` would return, counted by the database."""
    query = select(Decision.user_id, Decision.vote, func.count()).join(
        ApprovalRequest, col(ApprovalRequest.id) == Decision.request_id)
    query = _decided_where(query, since=since, until=until, policy_id=policy_id, shop=shop, statuses=statuses,
                           user=user).group_by(Decision.user_id, Decision.vote)
    return list((await (await session.connection()).execute(query)).all())


async def votes(session: AsyncSession, *, request_ids: Sequence[int], with_fields: bool = True) -> dict[int, list[Any]]:
    """The votes on these requests, in the order they were cast (light rows: reports read tens of thousands)."""
    out: dict[int, list[Any]] = {}
    ids = list(request_ids)
    for start in range(0, len(ids), _CHUNK):
        columns = [Decision.request_id, Decision.user_id, Decision.vote, Decision.at]
        query = (select(*columns, Decision.fields if with_fields else Decision.id)
                 .where(col(Decision.request_id).in_(ids[start:start + _CHUNK]))
                 .order_by(col(Decision.at), col(Decision.id)))
        for row in (await (await session.connection()).execute(query)).all():
            out.setdefault(row.request_id, []).append(row)
    return out


def _pending(query: Any, *, policy_ids: Sequence[str] | None, shop: str | None, waiting_for: str | None) -> Any:
    query = query.where(ApprovalRequest.status == PENDING)
    if policy_ids is not None:
        query = query.where(col(ApprovalRequest.policy_id).in_(list(policy_ids)))
    if shop:
        query = query.where(ApprovalRequest.shop_domain == shop)
    if waiting_for:
        query = query.where(~_voted_by(waiting_for),
                            or_(col(ApprovalRequest.requester).is_(None), ApprovalRequest.requester != waiting_for))
    return query


async def count_pending(session: AsyncSession, *, policy_ids: Sequence[str] | None, shop: str | None = None,
                        waiting_for: str | None = None) -> int:
    """How many requests `pending_page` would list in all."""
    if policy_ids is not None and not policy_ids:
        return 0
    query = _pending(select(func.count()).select_from(ApprovalRequest), policy_ids=policy_ids, shop=shop,
                     waiting_for=waiting_for)
    return (await session.exec(query)).one()


async def pending_page(session: AsyncSession, *, policy_ids: Sequence[str] | None, shop: str | None = None,
                       waiting_for: str | None = None, after: tuple[datetime, int] | None = None,
                       limit: int = 25) -> list[ApprovalRequest]:
    """Pending requests, oldest first, after the keyset `after`; `policy_ids` None means every policy.

    `waiting_for` keeps only requests that user has not voted on and did not ask for themself.
    """
    if policy_ids is not None and not policy_ids:
        return []
    query = _pending(select(ApprovalRequest), policy_ids=policy_ids, shop=shop, waiting_for=waiting_for)
    if after is not None:
        at, last_id = after
        query = query.where(or_(col(ApprovalRequest.created_at) > at,
                                and_(col(ApprovalRequest.created_at) == at, col(ApprovalRequest.id) > last_id)))
    query = query.order_by(col(ApprovalRequest.created_at), col(ApprovalRequest.id)).limit(limit)
    return list((await session.exec(query)).all())


async def pending_brief(session: AsyncSession, *, policy_ids: Sequence[str] | None = None) -> list[Any]:
    """(id, order_name, policy_id, created_at) of pending requests, oldest first (overdue counts)."""
    query = select(ApprovalRequest.id, ApprovalRequest.order_name, ApprovalRequest.policy_id,
                   ApprovalRequest.created_at).where(ApprovalRequest.status == PENDING)
    if policy_ids is not None:
        query = query.where(col(ApprovalRequest.policy_id).in_(list(policy_ids)))
    return list((await session.exec(query.order_by(col(ApprovalRequest.created_at)))).all())


async def for_order(session: AsyncSession, *, name: str | None, legacy_id: str | None) -> list[ApprovalRequest]:
    """Every request of an order, by its name (#1001) or numeric id, in any shop."""
    match = []
    if name:
        match.append(ApprovalRequest.order_name == name)
    if legacy_id:
        match.append(ApprovalRequest.order_gid == f"gid://shopify/Order/{legacy_id}")
    if not match:
        return []
    query = select(ApprovalRequest).where(or_(*match)).order_by(col(ApprovalRequest.id))
    return list((await session.exec(query)).all())


async def events_for(session: AsyncSession, *, request_ids: Sequence[int], after_id: int = 0,
                     limit: int = 50) -> list[AuditEvent]:
    """Audit events of these requests in chain order, after `after_id`."""
    if not request_ids:
        return []
    query = (select(AuditEvent).where(col(AuditEvent.request_id).in_(list(request_ids)), col(AuditEvent.id) > after_id)
             .order_by(col(AuditEvent.id)).limit(limit))
    return list((await session.exec(query)).all())


async def events_between(session: AsyncSession, *, since: datetime | None, until: datetime | None,
                         after_id: int = 0, limit: int = 1000) -> list[AuditEvent]:
    """Audit events with since ≤ at < until in chain order, after `after_id` (export in batches)."""
    query = select(AuditEvent).where(col(AuditEvent.id) > after_id)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    if until is not None:
        query = query.where(col(AuditEvent.at) < until)
    return list((await session.exec(query.order_by(col(AuditEvent.id)).limit(limit))).all())


async def recent_votes(session: AsyncSession, *, user: str, limit: int = 10) -> list[Any]:
    """The user's latest votes with their request's order name and status: (Decision, order_name, status)."""
    query = (select(Decision, ApprovalRequest.order_name, ApprovalRequest.status)
             .join(ApprovalRequest, col(ApprovalRequest.id) == col(Decision.request_id))
             .where(Decision.user_id == user).order_by(col(Decision.at).desc(), col(Decision.id).desc()).limit(limit))
    return list((await session.exec(query)).all())
