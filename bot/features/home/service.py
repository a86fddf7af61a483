"""App Home: build a user's Home tab from storage, publish it, and the hook that refreshes it after a vote."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import JobKind, home_key, home_user_key
from bot.blocks.home import HOME_ITEMS, OLDEST, RECENT, ManagerPanel, RecentVote, home_view
from bot.features.reporting import service as reporting
from bot.reports.query import Query, Sub
from bot.runtime import Runtime
from storage import jobs, requests
from storage import reports as store

PUBLISH_DELAY_S = 1.0  # a burst of decisions within this long redraws each Home once
WEEK = timedelta(days=7)


def refresh_jobs(session: AsyncSession, rt: Runtime, *, request_id: int) -> None:
    """Queue a Home refresh for a request's approvers and the managers, in the caller's transaction."""
    # One job per request, not per viewer: who can see it (user groups) is resolved by the job, outside the
    # decision's transaction, and a burst of votes on one request refreshes each Home in order.
    rt.enqueue(session, JobKind.HOME_REFRESH, key=home_key(request_id), payload={"request_id": request_id})


async def queue_publish(session: AsyncSession, rt: Runtime, *, users: list[str]) -> None:
    """Queue one Home publish per user unless one is already waiting (it will draw the latest state anyway)."""
    for user in users:
        key = home_user_key(user)
        if not await jobs.queued(session, key=key):
            rt.enqueue(session, JobKind.HOME_PUBLISH, key=key, run_at=rt.now() + timedelta(seconds=PUBLISH_DELAY_S),
                       payload={"user": user})


async def audience(rt: Runtime, *, request_id: int) -> list[str]:
    """Everyone whose Home shows this request: its policy's approvers, its voters, and the managers."""
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=request_id)
        voters = [d.user_id for d in (await store.votes(session, request_ids=[request_id])).get(request_id, [])]
    users: list[str] = []
    policy = rt.policies.get(req.policy_id) if req else None
    if policy is not None:
        users += await rt.directory.expand(policy.approvers)
    users += voters + await rt.directory.expand(rt.policies.roles.managers)
    return list(dict.fromkeys(users))


async def view_for(rt: Runtime, user: str) -> dict[str, Any]:
    """The user's Home view: their waiting requests and votes (approver), the week (manager)."""
    acc = await reporting.access(rt, user)
    now = rt.now()
    waiting_items, recent, panel, total = [], [], None, 0
    async with rt.sessions() as session:
        if acc.approver_of:
            rows = await store.pending_page(session, policy_ids=list(acc.approver_of), waiting_for=user,
                                            limit=HOME_ITEMS)
            total = await store.count_pending(session, policy_ids=list(acc.approver_of), waiting_for=user)
            votes = await store.votes(session, request_ids=[r.id for r in rows])
            waiting_items = [reporting.queue_item(rt, r, votes.get(r.id, []), buttons=True) for r in rows[:HOME_ITEMS]]
            recent = [RecentVote(name, d.vote, d.at, status)
                      for d, name, status in await store.recent_votes(session, user=user, limit=RECENT)]
        if acc.manager:
            query = Query(sub=Sub.STATS, since=now - WEEK, until=now)
            fig = await reporting.summary(session, rt, query)
            oldest = await store.pending_page(session, policy_ids=None, limit=OLDEST)
            panel = ManagerPanel(fig, now - WEEK, now,
                                 [reporting.queue_item(rt, r, [], buttons=False) for r in oldest],
                                 reporting.titles(rt))
    return home_view(now=now, approver=bool(acc.approver_of), waiting=waiting_items, waiting_total=total,
                     recent=recent, manager=panel)


async def publish(rt: Runtime, user: str) -> None:
    """Draw and publish one user's Home tab (publishing the same state twice draws the same view)."""
    await rt.slack.views_publish(user_id=user, view=await view_for(rt, user))
