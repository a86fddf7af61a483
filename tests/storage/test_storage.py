import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update

from storage import audit, jobs, webhooks
from storage.db import current_revision, head_revision, make_engine, migrate, schema_drift, transaction
from storage.models import AuditEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_migrations_reach_head_and_rerun_is_a_no_op(database_url):
    engine = make_engine(database_url)
    assert await current_revision(engine) is None
    await migrate(engine)
    await migrate(engine)
    assert await current_revision(engine) == head_revision()
    assert await schema_drift(engine) == []  # the migrations create exactly what the models describe
    await engine.dispose()


async def _chain(sessions, n=5):
    for i in range(n):
        async with transaction(sessions) as s:
            await audit.append(s, at=T0 + timedelta(seconds=i), actor=f"U{i}", kind="test", request_id=i,
                               data={"i": i, "note": "ünïcode"})


async def test_audit_chain_verifies(sessions):
    await _chain(sessions)
    async with sessions() as s:
        result = await audit.verify(s)
    assert result.ok and result.count == 5 and len(result.head) == 64


@pytest.mark.parametrize(
    ("tamper", "broken", "problem"),
    [
        ("UPDATE audit_event SET actor = 'U9' WHERE id = 3", 3, "edited"),
        ("DELETE FROM audit_event WHERE id = 2", 3, "removed"),
        ("UPDATE audit_event SET id = 99 WHERE id = 1", 2, "removed"),  # moving a row breaks its successor's link
    ],
)
async def test_audit_verify_finds_tampering(sessions, tamper, broken, problem):
    await _chain(sessions)
    async with transaction(sessions) as s:
        await s.exec(text(tamper))
    async with sessions() as s:
        result = await audit.verify(s)
    assert not result.ok and result.broken_id == broken and problem in result.problem


async def test_concurrent_appends_never_fork_the_chain(sessions):
    async def one(i):
        async with transaction(sessions) as s:
            await audit.append(s, at=T0, actor="x", kind="race", data={"i": i})

    await asyncio.gather(*(one(i) for i in range(20)))
    async with sessions() as s:
        result = await audit.verify(s)
    assert result.ok and result.count == 20


async def test_webhook_receipts_dedupe_on_webhook_id_and_event_id(sessions):
    async with transaction(sessions) as s:
        assert await webhooks.record(s, webhook_id="w1", event_id="e1", topic="orders/create", shop="s", now=T0)
        assert not await webhooks.record(s, webhook_id="w1", event_id="e2", topic="orders/create", shop="s", now=T0)
        assert not await webhooks.record(s, webhook_id="w2", event_id="e1", topic="orders/create", shop="s", now=T0)
        # The same event delivered for another topic is a different delivery.
        assert await webhooks.record(s, webhook_id="w3", event_id="e1", topic="orders/updated", shop="s", now=T0)
        assert await webhooks.record(s, webhook_id="w4", event_id=None, topic="orders/create", shop="s", now=T0)


async def test_jobs_with_one_key_run_in_order_and_leases_expire(sessions):
    async with transaction(sessions) as s:
        a = jobs.enqueue(s, kind="k", key="order-1", now=T0)
        b = jobs.enqueue(s, kind="k", key="order-1", now=T0)
        c = jobs.enqueue(s, kind="k", key="order-2", now=T0)
    async with transaction(sessions) as s:
        claimed = await jobs.claim(s, now=T0, lease_s=30, limit=10)
    assert {j.id for j in claimed} == {a.id, c.id}  # b waits for a
    async with transaction(sessions) as s:
        assert await jobs.claim(s, now=T0, lease_s=30, limit=10) == []
    async with transaction(sessions) as s:
        assert await jobs.finish(s, job=claimed[0], now=T0)
    async with transaction(sessions) as s:
        [bj] = await jobs.claim(s, now=T0, lease_s=30, limit=10)
    assert bj.id == b.id
    async with transaction(sessions) as s:
        assert await jobs.finish(s, job=bj, now=T0)
    # c's worker died: after its lease it is claimed again, and the stale owner cannot finish it.
    async with transaction(sessions) as s:
        again = await jobs.claim(s, now=T0 + timedelta(seconds=31), lease_s=30, limit=10)
    assert [j.id for j in again] == [c.id] and again[0].attempts == 2
    async with transaction(sessions) as s:
        assert not await jobs.finish(s, job=claimed[1], now=T0)
        assert await jobs.finish(s, job=again[0], now=T0)


async def test_failed_job_retries_later_or_goes_dead(sessions):
    async with transaction(sessions) as s:
        jobs.enqueue(s, kind="k", key="x", now=T0)
    async with transaction(sessions) as s:
        [job] = await jobs.claim(s, now=T0, lease_s=30, limit=1)
        assert await jobs.fail(s, job=job, now=T0, error="503", retry_at=T0 + timedelta(seconds=5)) == "pending"
    async with transaction(sessions) as s:
        assert await jobs.claim(s, now=T0 + timedelta(seconds=4), lease_s=30, limit=1) == []
        [job] = await jobs.claim(s, now=T0 + timedelta(seconds=5), lease_s=30, limit=1)
        assert await jobs.fail(s, job=job, now=T0, error="400", retry_at=None) == "dead"
    async with sessions() as s:
        assert (await jobs.counts(s)) == {"dead": 1}


async def test_skip_locked_lets_two_workers_share_the_queue(sessions):
    async with transaction(sessions) as s:
        for i in range(10):
            jobs.enqueue(s, kind="k", key=f"k{i}", now=T0)

    async def worker():
        async with transaction(sessions) as s:
            return [j.id for j in await jobs.claim(s, now=T0, lease_s=30, limit=4)]

    first, second, third = await asyncio.gather(worker(), worker(), worker())
    ids = first + second + third
    assert len(ids) == len(set(ids)) == 10
