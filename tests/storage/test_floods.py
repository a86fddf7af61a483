"""Storage for flooded channels and deferred jobs: the backlog query, the flood row, jobs.defer and jobs.queued."""

from datetime import UTC, datetime, timedelta

from bot.approvals.effects import JobKind, slack_key
from storage import floods, jobs, requests
from storage.db import transaction
from storage.models import Job

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SHOP = "demo.myshopify.com"


async def _request(session, n: int, *, channel: str = "C1", posted: bool = False, job: str | None = "pending",
                   status: str = "pending", minutes: int = 0):
    gid = f"gid://shopify/Order/{n}"
    req = await requests.create(session, shop_domain=SHOP, order_gid=gid, order_name=f"#{n}", status=status,
                                version=0, policy_id="p2" if n % 3 == 0 else "p1", policy_hash="h", reasons=[],
                                order_snapshot={}, channel=channel, message_ts=f"{n}.0" if posted else None,
                                created_at=T0 + timedelta(minutes=minutes), updated_at=T0,
                                decided_at=T0 + timedelta(hours=1) if status != "pending" else None)
    if job:
        queued = jobs.enqueue(session, kind=JobKind.POST_REQUEST, key=slack_key(SHOP, gid), now=T0,
                              payload={"request_id": req.id})
        queued.status = job
    return req


async def test_backlog_counts_unposted_requests_a_live_job_will_post(sessions):
    async with transaction(sessions) as s:
        await _request(s, 1, minutes=5)
        await _request(s, 2, job="running", minutes=1)
        await _request(s, 3, posted=True)  # posted already
        await _request(s, 4, job="dead")  # its post went dead: an operator's problem, not the flood's
        await _request(s, 5, job=None)  # no post queued at all (a draft still being made)
        await _request(s, 6, channel="C2")  # another channel
        await _request(s, 7, status="approved", posted=True)
        await _request(s, 8, status="rejected", minutes=2)  # decided before its message was posted: still to come
    async with sessions() as s:
        assert await floods.backlog(s, channel="C1") == 3
        found = await floods.facts(s, channel="C1", since=T0)
    assert found.unposted == 3 and found.waiting == 5  # 1, 2, 3, 4, 5 are pending in C1
    assert found.by_policy == (("p1", 4), ("p2", 1))
    assert found.oldest is not None and found.oldest[0] == "#3"  # oldest first, then by id
    assert found.decided == 2


async def test_a_flood_starts_once_and_a_draw_of_an_old_flood_changes_nothing(sessions):
    async with transaction(sessions) as s:
        assert await floods.start(s, channel="C1", now=T0)
        assert not await floods.start(s, channel="C1", now=T0)  # on already
    async with transaction(sessions) as s:
        row = await floods.get(s, channel="C1")
        assert (row.active, row.number, row.ts) == (True, 1, None)
        assert await floods.drawn(s, channel="C1", number=1, ts="1.5", now=T0, end=False)
    async with transaction(sessions) as s:
        assert await floods.drawn(s, channel="C1", number=1, ts=None, now=T0 + timedelta(seconds=9), end=True)
        assert await floods.start(s, channel="C1", now=T0 + timedelta(minutes=1))  # a new flood, a new summary
    async with transaction(sessions) as s:
        assert not await floods.drawn(s, channel="C1", number=1, ts="9.9", now=T0, end=True)
        row = await floods.get(s, channel="C1")
    assert (row.active, row.number, row.ts, row.ended_at) == (True, 2, None, None)


async def _claimed(sessions, key: str = "k") -> Job:
    async with transaction(sessions) as s:
        jobs.enqueue(s, kind="x", key=key, now=T0)
    async with transaction(sessions) as s:
        [job] = await jobs.claim(s, now=T0, lease_s=60, limit=1)
    return job


async def test_defer_puts_a_finished_job_back_and_gives_its_attempt_back(sessions):
    job = await _claimed(sessions)
    assert job.attempts == 1
    later = T0 + timedelta(seconds=30)
    async with transaction(sessions) as s:
        assert await jobs.finish(s, job=job, now=T0)
        assert await jobs.defer(s, job=job, run_at=later, now=T0, reason="waiting: channel busy")
    async with sessions() as s:
        row = await s.get(Job, job.id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, "waiting: channel busy")
    assert row.run_at.replace(tzinfo=UTC) == later
    async with transaction(sessions) as s:
        assert await jobs.claim(s, now=T0, lease_s=60, limit=1) == []  # not before its time
        assert await jobs.defer(s, job=job, run_at=later, now=T0, reason="again") is False  # not finished: no-op


async def test_queued_sees_only_a_job_that_has_not_started(sessions):
    async with transaction(sessions) as s:
        assert not await jobs.queued(s, key="k")
        jobs.enqueue(s, kind="x", key="k", now=T0)
    async with transaction(sessions) as s:
        assert await jobs.queued(s, key="k")
    async with transaction(sessions) as s:
        [started] = await jobs.claim(s, now=T0, lease_s=60, limit=1)
        assert started.key == "k" and not await jobs.queued(s, key="k")  # running: it may have read already
