"""The flood summary's job: post it ahead of the backlog, redraw it in place, draw it a last time when all is posted."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.flood import build, text_fallback
from bot.features.flood import service as flood
from bot.features.requests.slack_effects import post_once
from bot.jobs.errors import Deferred
from bot.jobs.registry import Apply
from bot.jobs.slack_calls import call
from bot.runtime import Runtime
from storage import audit, floods
from storage.models import Job


async def summary(rt: Runtime, job: Job) -> Apply | None:
    """Draw a channel's flood summary from the current state (running twice draws the same thing)."""
    channel = job.payload["channel"]
    now = rt.now()
    async with rt.sessions() as session:
        row = await floods.get(session, channel=channel)
        if row is None or not row.active:
            return None  # the flood is over and its last form is drawn
        found = await floods.facts(session, channel=channel, since=row.started_at)
    final = found.unposted == 0
    if row.ts is None and final:
        ending = None  # drained before its summary's turn came: the messages themselves say it all
    else:
        since = (now - row.drawn_at).total_seconds() if row.drawn_at else None
        if row.ts and not final and since is not None and since < rt.settings.flood_refresh_s:
            # chat.update is limited per workspace (Tier 3): redraw at most every flood_refresh_s, except the
            # last time. Deferred, this job stays queued and keeps absorbing the changes that come meanwhile.
            raise Deferred(f"flood summary of {channel} redrawn {since:.1f}s ago",
                           retry_after=rt.settings.flood_refresh_s - since)
        view = flood.view_of(rt, found, row.started_at)
        text, blocks = text_fallback(view), build(view, now)
        if row.ts is None:  # it goes before the backlog it sums up
            ending = await post_once(rt, job, channel=channel, first=True, text=text, blocks=blocks)
        else:
            await call(rt.slack.chat_update(channel=channel, ts=row.ts, text=text, blocks=blocks))
            ending = row.ts

    async def apply(session: AsyncSession) -> None:
        at = rt.now()
        again = await floods.facts(session, channel=channel, since=row.started_at)
        end = final and again.unposted == 0  # more may have arrived while we drew: then it goes on
        if not await floods.drawn(session, channel=channel, number=row.number, ts=ending, now=at, end=end):
            return  # a newer flood began meanwhile; it has its own summary
        if end:
            await audit.append(session, at=at, actor="holdfast", kind="flood.ended",
                               data={"channel": channel, "summary_ts": ending, "waiting": again.waiting,
                                     "decided": again.decided})
        elif again != found:
            await flood.touch(session, rt, channel=channel, now=at)  # it moved on while we drew

    return apply
