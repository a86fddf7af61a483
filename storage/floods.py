"""A channel's flood: its backlog of unposted requests, what is waiting there, and the summary's row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApprovalRequest, ChannelFlood, Job

ACTIVE_JOBS = ("pending", "running")
DECIDED = ("approved", "rejected", "expired")


@dataclass(frozen=True)
class ChannelFacts:
    """What a flood summary shows, read in one go."""

    unposted: int  # requests whose message is still to be posted here
    waiting: int  # pending requests in the channel, posted or not
    by_policy: tuple[tuple[str, int], ...]  # (policy id, pending), most first
    oldest: tuple[str, datetime] | None  # (order name, created_at) of the longest-waiting request
    decided: int  # requests of the channel decided since the flood began


def _slack_job_of_request():
    # The key of a request's Slack jobs (bot.approvals.machine.slack_key; a test keeps the two in step).
    return literal("slack:") + ApprovalRequest.shop_domain + literal(":") + ApprovalRequest.order_gid


async def backlog(session: AsyncSession, *, channel: str) -> int:
    """Requests of the channel whose message is not posted yet and still will be (a live job will post it).

    A request whose post went dead is not counted: it waits for an operator, not for Slack, and would
    otherwise keep a flood open forever.
    """
    live = exists().where(and_(Job.key == _slack_job_of_request(), col(Job.status).in_(ACTIVE_JOBS)))
    query = select(func.count()).select_from(ApprovalRequest).where(
        ApprovalRequest.channel == channel, col(ApprovalRequest.message_ts).is_(None), live)
    return (await session.exec(query)).one()


async def facts(session: AsyncSession, *, channel: str, since: datetime) -> ChannelFacts:
    """The channel's backlog, its pending requests by policy, the oldest one, and decisions since `since`."""
    pending = and_(ApprovalRequest.channel == channel, ApprovalRequest.status == "pending")
    rows = (await session.exec(select(ApprovalRequest.policy_id, func.count()).where(pending)
                               .group_by(ApprovalRequest.policy_id))).all()
    by_policy = tuple(sorted(((p, n) for p, n in rows), key=lambda r: (-r[1], r[0])))
    oldest = (await session.exec(select(ApprovalRequest.order_name, ApprovalRequest.created_at).where(pending)
                                 .order_by(col(ApprovalRequest.created_at), col(ApprovalRequest.id)).limit(1))).first()
    decided = (await session.exec(select(func.count()).select_from(ApprovalRequest).where(
        ApprovalRequest.channel == channel, col(ApprovalRequest.status).in_(DECIDED),
        col(ApprovalRequest.decided_at) >= since))).one()
    return ChannelFacts(unposted=await backlog(session, channel=channel), waiting=sum(n for _, n in by_policy),
                        by_policy=by_policy, oldest=(oldest[0], oldest[1]) if oldest else None, decided=decided)


async def get(session: AsyncSession, *, channel: str) -> ChannelFlood | None:
    """The channel's flood row (None before its first flood)."""
    return await session.get(ChannelFlood, channel)


async def start(session: AsyncSession, *, channel: str, now: datetime) -> bool:
    """Begin a flood in the channel; False when one is on already (another transaction may have begun it)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.exec(insert(ChannelFlood).values(channel=channel, active=False, started_at=now, updated_at=now)
                       .on_conflict_do_nothing())
    # Compare-and-set: of two transactions starting the same flood, one sees it already active.
    result = await session.exec(
        update(ChannelFlood).where(col(ChannelFlood.channel) == channel, col(ChannelFlood.active).is_(False))
        .values(active=True, number=ChannelFlood.number + 1, ts=None, started_at=now, ended_at=None, drawn_at=None,
                updated_at=now))
    return result.rowcount == 1


async def drawn(session: AsyncSession, *, channel: str, number: int, ts: str | None, now: datetime,
                end: bool) -> bool:
    """Record the summary's message as drawn now (ts None: not drawn); `end` closes the flood.

    False when flood `number` is no longer the channel's latest (a newer one began meanwhile).
    """
    values: dict = {"updated_at": now}
    if ts is not None:
        values.update(ts=ts, drawn_at=now)
    if end:
        values.update(active=False, ended_at=now)
    result = await session.exec(update(ChannelFlood).where(
        col(ChannelFlood.channel) == channel, ChannelFlood.number == number).values(**values))
    return result.rowcount == 1
