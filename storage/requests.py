"""Approval requests and decisions: small keyword-only queries; decisions are compare-and-set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApprovalRequest, Decision, RequestCopy

# The jobs' frequent writes go to the table (Core), not through the ORM's bulk-update bookkeeping, which cost
# more than the statement; none of their callers reads the same request object back from its session.
_REQUEST = ApprovalRequest.__table__


@dataclass(frozen=True)
class Loaded:
    """A claimed job's request as its claim found it, with its votes and copies where the job draws them."""

    request: ApprovalRequest
    decisions: list[Decision] | None = None  # loaded for the kinds that draw the message
    copies: list[RequestCopy] | None = None


async def get(session: AsyncSession, *, request_id: int) -> ApprovalRequest | None:
    """One request by id."""
    return await session.get(ApprovalRequest, request_id)


async def many(session: AsyncSession, *, ids: list[int]) -> dict[int, ApprovalRequest]:
    """Requests by id, in one query."""
    rows = (await session.exec(select(ApprovalRequest).where(col(ApprovalRequest.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def per_request(session: AsyncSession, model: type[Decision] | type[RequestCopy], *,
                      request_ids: list[int]) -> dict[int, list[Any]]:
    """The rows of `model` (votes, escalation copies) of each of these requests, in order, in one query."""
    query = select(model).where(col(model.request_id).in_(request_ids)).order_by(col(model.id))
    found: dict[int, list[Any]] = {rid: [] for rid in request_ids}
    for row in (await session.exec(query)).all():
        found[row.request_id].append(row)
    return found


async def by_order(session: AsyncSession, *, shop: str, order_gid: str) -> ApprovalRequest | None:
    """The request for an order, if any."""
    query = select(ApprovalRequest).where(ApprovalRequest.shop_domain == shop, ApprovalRequest.order_gid == order_gid)
    return (await session.exec(query)).first()


async def create(session: AsyncSession, **values: Any) -> ApprovalRequest:
    """Insert a request (the caller checked there is none for the order)."""
    row = ApprovalRequest(**values)
    session.add(row)
    await session.flush()
    return row


async def compare_and_set(session: AsyncSession, *, request_id: int, version: int, now: datetime,
                          **values: Any) -> bool:
    """Bump a pending request's version (and set `values`) only if nobody changed it since we read `version`."""
    result = await session.exec(
        update(ApprovalRequest)
        .where(col(ApprovalRequest.id) == request_id, ApprovalRequest.version == version,
               ApprovalRequest.status == "pending")
        .values(version=version + 1, updated_at=now, **values)
    )
    return result.rowcount == 1


async def votes(session: AsyncSession, *, request_id: int) -> list[tuple[str, str]]:
    """(user, vote) in the order they were cast."""
    query = select(Decision.user_id, Decision.vote).where(Decision.request_id == request_id).order_by(col(Decision.id))
    return [(u, v) for u, v in (await session.exec(query)).all()]


async def decisions(session: AsyncSession, *, request_id: int) -> list[Decision]:
    """Every vote with its fields, in order."""
    query = select(Decision).where(Decision.request_id == request_id).order_by(col(Decision.id))
    return list((await session.exec(query)).all())


async def assign(session: AsyncSession, *, request_id: int, assignee: str, now: datetime) -> None:
    """Record who a request was handed to."""
    await session.exec(update(ApprovalRequest).where(col(ApprovalRequest.id) == request_id)
                       .values(assignee=assignee, updated_at=now))


async def set_outcome(session: AsyncSession, *, request_id: int, state: str, now: datetime,
                      error: str | None = None) -> None:
    """Record whether the decision's effect landed in Shopify."""
    await session.exec(update(_REQUEST).where(_REQUEST.c.id == request_id)
                       .values(outcome_state=state, outcome_error=error, updated_at=now))


async def add_decision(session: AsyncSession, *, request_id: int, user_id: str, vote: str, now: datetime,
                       fields: dict[str, Any] | None = None) -> Decision:
    """Record one vote."""
    row = Decision(request_id=request_id, user_id=user_id, vote=vote, fields=fields or {}, at=now)
    session.add(row)
    await session.flush()
    return row


async def set_message(session: AsyncSession, *, request_id: int, channel: str, ts: str, now: datetime,
                      drawn: str | None = None) -> None:
    """Remember where the request message lives (and the fingerprint of what it shows)."""
    await session.exec(update(_REQUEST).where(_REQUEST.c.id == request_id)
                          .values(channel=channel, message_ts=ts, drawn=drawn, updated_at=now))


async def set_drawn(session: AsyncSession, *, request_id: int, drawn: str) -> None:
    """Remember what the request message shows now (a redraw of the same thing can then be skipped)."""
    await session.exec(update(_REQUEST).where(_REQUEST.c.id == request_id).values(drawn=drawn))


async def set_hold(session: AsyncSession, *, request_id: int, state: str, now: datetime,
                   hold_ids: list[str] | None = None, error: str | None = None) -> str | None:
    """Record the hold's state (and our hold ids when placed); returns the request message's ts, if posted."""
    values: dict[str, Any] = {"hold_state": state, "hold_error": error, "updated_at": now}
    if hold_ids is not None:
        values["hold_ids"] = hold_ids
    result = await session.exec(update(_REQUEST).where(_REQUEST.c.id == request_id).values(**values)
                                .returning(_REQUEST.c.message_ts))
    row = result.first()
    return row[0] if row is not None else None


async def waiting_holds(session: AsyncSession, *, shop: str) -> list[ApprovalRequest]:
    """This shop's requests whose hold waits for Shopify's fulfillment orders to open."""
    query = select(ApprovalRequest).where(ApprovalRequest.shop_domain == shop, ApprovalRequest.hold_state == "waiting")
    return list((await session.exec(query.limit(500))).all())


async def undecided(session: AsyncSession, *, shop: str) -> list[ApprovalRequest]:
    """This shop's requests still waiting for a decision (app/uninstalled tells their approvers)."""
    query = (select(ApprovalRequest).where(ApprovalRequest.shop_domain == shop,
                                           col(ApprovalRequest.status).in_(("pending", "drafting")))
             .order_by(col(ApprovalRequest.id)))
    return list((await session.exec(query)).all())
