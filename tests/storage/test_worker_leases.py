"""Leases say "the process running this job is alive": a job slower than its lease is not started twice."""

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import event

from bot.jobs.registry import JobSpec, Registry
from bot.jobs.worker import Worker
from storage import jobs
from storage.db import transaction

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_extend_pushes_out_only_the_leases_still_ours(sessions):
    async with transaction(sessions) as s:
        a = jobs.enqueue(s, kind="k", key="a", now=T0)
        b = jobs.enqueue(s, kind="k", key="b", now=T0)
    async with transaction(sessions) as s:
        ja, jb = await jobs.claim(s, now=T0, lease_s=10, limit=2)
    async with transaction(sessions) as s:  # a's runner is alive and says so; b's is not
        assert await jobs.extend(s, leases=[(ja.id, ja.attempts)], until=T0 + timedelta(seconds=20), now=T0) == 1
    async with transaction(sessions) as s:
        [jb2] = await jobs.claim(s, now=T0 + timedelta(seconds=11), lease_s=10, limit=2)
    assert jb2.id == b.id and jb2.attempts == 2
    async with transaction(sessions) as s:  # b's first runner wakes up: the lease is no longer its to extend
        assert await jobs.extend(s, leases=[(jb.id, jb.attempts)], until=T0 + timedelta(seconds=30), now=T0) == 0
        assert await jobs.extend(s, leases=[], until=T0, now=T0) == 0
    async with transaction(sessions) as s:
        assert await jobs.claim(s, now=T0 + timedelta(seconds=19), lease_s=10, limit=2) == []
        [ja2] = await jobs.claim(s, now=T0 + timedelta(seconds=20.5), lease_s=10, limit=2)
    assert ja2.id == a.id


async def test_a_job_slower_than_its_lease_runs_once(sessions):
    started: list[int] = []

    async def slow(rt, job):
        started.append(job.attempts)
        await asyncio.sleep(1.5)  # five leases long
        return None

    rt = SimpleNamespace(sessions=sessions, now=lambda: datetime.now(UTC))
    worker = Worker(rt, Registry([JobSpec("slow", slow)]), concurrency=4, poll_s=0.05, lease_s=0.3)
    async with transaction(sessions) as s:
        jobs.enqueue(s, kind="slow", key="x", now=rt.now())
    running = asyncio.create_task(worker.run_forever())
    for _ in range(100):
        await asyncio.sleep(0.05)
        async with sessions() as s:
            if (await jobs.counts(s)).get("done"):
                break
    worker.stop()
    await running
    assert started == [1], "the job was claimed again while it was still running"
    async with sessions() as s:
        assert await jobs.counts(s) == {"done": 1}


async def test_a_dry_worker_still_runs_a_keys_next_job_and_follow_ups_at_once(sessions):
    # The worker stops claiming on freed slots once the queue looks dry; what a finished job makes claimable
    # (the next job on its key, jobs its apply step enqueued) must not wait for the poll (here: a minute).
    ran: list[str] = []

    async def step(rt, job):
        ran.append(job.payload["name"])

        async def apply(session):
            if job.payload["name"] == "second":
                jobs.enqueue(session, kind="step", key="other", now=rt.now(), payload={"name": "follow-up"})
        return apply

    rt = SimpleNamespace(sessions=sessions, now=lambda: datetime.now(UTC))
    worker = Worker(rt, Registry([JobSpec("step", step)]), concurrency=4, poll_s=60.0, lease_s=60.0)
    async with transaction(sessions) as s:
        for name in ("first", "second"):
            jobs.enqueue(s, kind="step", key="order-1", now=rt.now(), payload={"name": name})
    running = asyncio.create_task(worker.run_forever())
    try:
        for _ in range(200):
            if len(ran) == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await running
    assert ran == ["first", "second", "follow-up"]


async def test_jobs_waiting_for_shopify_leave_slots_for_slack(sessions):
    # A throttled shop makes Shopify jobs wait for its cost bucket; they must not take every slot, or the
    # approvers' messages would wait for Shopify too.
    bucket = asyncio.Event()
    running: list[str] = []
    most = 0

    async def shopify_call(rt, job):
        nonlocal most
        running.append(job.kind)
        most = max(most, sum(k.startswith("shopify.") for k in running))
        await bucket.wait()
        running.remove(job.kind)

    async def slack_post(rt, job):
        bucket.set()  # the message went out while Shopify was still waiting
        return None

    rt = SimpleNamespace(sessions=sessions, now=lambda: datetime.now(UTC))
    registry = Registry([JobSpec("shopify.hold", shopify_call, calls_shopify=True), JobSpec("slack.post_request", slack_post)])
    worker = Worker(rt, registry,
                    concurrency=4, reserve=2, poll_s=0.05, lease_s=60.0)
    async with transaction(sessions) as s:
        for i in range(6):
            jobs.enqueue(s, kind="shopify.hold", key=f"order-{i}", now=rt.now())
        jobs.enqueue(s, kind="slack.post_request", key="message-1", now=rt.now())
    task = asyncio.create_task(worker.run_forever())
    try:
        for _ in range(200):
            async with sessions() as s:
                if (await jobs.counts(s)) == {"done": 7}:
                    break
            await asyncio.sleep(0.05)
    finally:
        worker.stop(grace_s=1)
        await task
    async with sessions() as s:
        assert await jobs.counts(s) == {"done": 7}, "the Slack post waited behind the Shopify jobs"
    assert most == 2


async def test_a_burst_of_commits_is_claimed_in_a_few_batches_not_a_claim_each(sessions):
    # Every commit that queues a job wakes the worker; under load a claim per commit cost more than the jobs'
    # own work. With a claim gap the commits of the gap add up to one claim.
    ran: list[int] = []

    async def step(rt, job):
        ran.append(job.payload["n"])

    claims: list[str] = []

    def seen(_conn, _cursor, statement, *_):
        if statement.lstrip().startswith("UPDATE job") and "job.attempts +" in statement:
            claims.append(statement)  # a claim (a finish is an UPDATE too, without the attempt count)

    engine = sessions.kw["bind"].sync_engine
    rt = SimpleNamespace(sessions=sessions, now=lambda: datetime.now(UTC))
    worker = Worker(rt, Registry([JobSpec("step", step)]), concurrency=64, poll_s=60.0, lease_s=60.0, claim_gap_s=0.5)
    running = asyncio.create_task(worker.run_forever())
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for n in range(20):  # twenty commits in quick succession, each waking the worker
            async with transaction(sessions) as s:
                jobs.enqueue(s, kind="step", key=f"k{n}", now=rt.now(), payload={"n": n})
            worker.wake()
        for _ in range(200):
            if len(ran) == 20:
                break
            await asyncio.sleep(0.05)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        worker.stop()
        await running
    assert sorted(ran) == list(range(20))
    assert 1 <= len(claims) <= 1 + len(ran) // 4, len(claims)
