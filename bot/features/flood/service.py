"""Flooded channels: when too many requests wait to be posted in one channel, one summary message sums them up.

Every request is still posted, oldest first, at the pace Slack allows (its own message is its thread, its
permalink and what its buttons redraw); the summary goes before them, is redrawn in place as they drain and
as decisions come in, and sends approvers to the queue (`/approvals queue`, App Home), where all of them can
be decided at once. It is drawn a last time, in its final form, when the backlog is posted.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import JobKind, flood_key
from bot.blocks.flood import FloodView
from bot.runtime import Runtime
from storage import audit, floods, jobs
from storage.floods import ChannelFacts


async def note_request(session: AsyncSession, rt: Runtime, *, channel: str, now: datetime) -> None:
    """A request for `channel` was created: start a flood when its backlog reaches the threshold, or redraw one."""
    threshold = rt.settings.flood_threshold
    if threshold <= 0:
        return
    flood = await floods.get(session, channel=channel)
    if flood is None or not flood.active:
        backlog = await floods.backlog(session, channel=channel)
        if backlog < threshold:
            return
        if await floods.start(session, channel=channel, now=now):
            await audit.append(session, at=now, actor="holdfast", kind="flood.started",
                               data={"channel": channel, "backlog": backlog, "threshold": threshold})
    await touch(session, rt, channel=channel, now=now)


async def touch(session: AsyncSession, rt: Runtime, *, channel: str, now: datetime) -> None:
    """Something the channel's summary shows changed: queue a redraw if a flood is on (one queued redraw is enough)."""
    if rt.settings.flood_threshold <= 0:
        return
    flood = await floods.get(session, channel=channel)
    if flood is None or not flood.active:
        return
    key = flood_key(channel)
    if await jobs.queued(session, key=key):
        return  # that redraw has not started: it will read what this transaction commits
    rt.enqueue(session, JobKind.FLOOD_SUMMARY, key=key, payload={"channel": channel})


def view_of(rt: Runtime, found: ChannelFacts, started_at: datetime) -> FloodView:
    """The summary's view of a channel's facts (policy ids shown as the titles people know)."""
    titles = {p.id: p.title for p in rt.policies.policies}
    return FloodView(waiting=found.waiting, unposted=found.unposted,
                     by_policy=tuple((titles.get(pid, pid), n) for pid, n in found.by_policy), oldest=found.oldest,
                     started_at=started_at, decided=found.decided, posts_per_s=rt.settings.slack_post_rate)
