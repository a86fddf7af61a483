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


async def test_a_stored_batch_keeps_the_first_of_each_delivery_and_queues_only_its_jobs(sessions):
    store = webhooks.BatchStore(sessions.kw["bind"], sessions)
    payload = '{"shop": "s", "order": {"id": 1, "note": "ünïcode \\u00e9"}}'
    batch = [webhooks.Receipt("w1", "e1", "orders/create", "s", "order:s:1", payload),
             webhooks.Receipt("w2", None, "app/uninstalled", "s"),
             webhooks.Receipt("w3", "e3", "orders/updated", "s", "order:s:1", '{"n": 3}'),
             webhooks.Receipt("w4", "e4", "orders/create", "s", "order:s:2", '{"n": 4}')]
    stored = await store.store(batch, job_kind="order.process", now=T0, max_attempts=5)
    assert stored == {"w1", "w2", "w3", "w4"}
    again = [webhooks.Receipt("w1", "e9", "orders/create", "s", "order:s:1", '{"n": 5}'),  # same delivery id
             webhooks.Receipt("w5", "e3", "orders/updated", "s", "order:s:1", '{"n": 6}'),  # same event
             webhooks.Receipt("w6", "e3", "orders/create", "s", "order:s:3", '{"n": 7}'),  # event, other topic
             webhooks.Receipt("w7", None, "app/uninstalled", "s")]  # no event id, like w2: no conflict
    assert await store.store(again, job_kind="order.process", now=T0, max_attempts=5) == {"w6", "w7"}
    await store.close()
    async with sessions() as s:
        rows = (await s.exec(text("SELECT id, kind, key, status, payload, max_attempts, run_at FROM job"))).all()
    assert [r.key for r in sorted(rows)] == ["order:s:1", "order:s:1", "order:s:2", "order:s:3"]  # in order
    assert {(r.kind, r.status, r.max_attempts) for r in rows} == {("order.process", "pending", 5)}
    async with sessions() as s:
        [first] = await jobs.claim(s, now=T0, lease_s=30, limit=1)
    assert first.payload == {"shop": "s", "order": {"id": 1, "note": "ünïcode é"}}
    assert first.run_at.replace(tzinfo=UTC) == T0


async def test_a_batch_stores_times_as_every_other_write_does(sessions):
    """Times are compared in SQL: a job stored by a batch at `now` is due at `now`, as one stored by the ORM."""
    store, now = webhooks.BatchStore(sessions.kw["bind"], sessions), T0 + timedelta(microseconds=123457)
    await store.store([webhooks.Receipt("w1", None, "orders/create", "s", "order:s:1", "{}")], job_kind="k", now=now,
                      max_attempts=5)
    await store.close()
    async with transaction(sessions) as s:
        jobs.enqueue(s, kind="k", key="orm", now=now)
    async with sessions() as s:
        stored = (await s.exec(text("SELECT key, CAST(run_at AS TEXT) FROM job ORDER BY id"))).all()
    assert stored[0][1] == stored[1][1]
    async with transaction(sessions) as s:
        assert len(await jobs.claim(s, now=now, lease_s=30, limit=10)) == 2


async def test_a_batch_that_fails_stores_nothing_and_the_next_one_goes_through(sessions):
    store = webhooks.BatchStore(sessions.kw["bind"], sessions)
    broken = [webhooks.Receipt("w1", None, "orders/create", "s", "order:s:1", '{"n": 1}'),
              webhooks.Receipt("w2", None, "orders/create", "s", "order:s:2", None)]  # a job without a payload
    with pytest.raises(Exception):
        await store.store(broken, job_kind="order.process", now=T0, max_attempts=5)
    async with sessions() as s:  # all or nothing: its senders get a 5xx and Shopify sends them again
        assert (await s.exec(text("SELECT count(*) FROM webhook_receipt"))).one()[0] == 0
        assert (await s.exec(text("SELECT count(*) FROM job"))).one()[0] == 0
    assert await store.store(broken[:1], job_kind="order.process", now=T0, max_attempts=5) == {"w1"}
    await store.close()


async def test_a_batch_whose_kept_connection_died_is_stored_on_a_fresh_one(sessions):
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite file has no server to cut the kept connection off")
    store = webhooks.BatchStore(engine, sessions)
    assert await store.store([webhooks.Receipt("w1", None, "t", "s")], job_kind="k", now=T0, max_attempts=5) == {"w1"}
    pid = (await (await store._conn.get_raw_connection()).driver_connection.fetchval("SELECT pg_backend_pid()"))
    async with sessions() as s:  # what a database restart or an idle timeout does to it
        await s.exec(text(f"SELECT pg_terminate_backend({pid})"))
    assert await store.store([webhooks.Receipt("w2", None, "t", "s")], job_kind="k", now=T0, max_attempts=5) == {"w2"}
    await store.close()


async def test_a_pooled_connection_idle_past_the_threshold_is_pinged_and_replaced_if_it_died(database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("a SQLite file has no server to cut a pooled connection off")
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.db import normalise_url, ping_when_idle

    killer = make_engine(database_url)

    async def backend_pid(engine) -> int:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()

    async def kill(pid: int) -> None:  # what a database restart or an idle timeout does to it
        async with killer.connect() as conn:
            await conn.execute(text(f"SELECT pg_terminate_backend({pid})"))

    idle, busy = (create_async_engine(normalise_url(database_url), pool_size=1) for _ in range(2))
    ping_when_idle(idle, idle_s=0.05)
    ping_when_idle(busy, idle_s=3600)
    try:
        first = await backend_pid(idle)
        await kill(first)
        await asyncio.sleep(0.1)
        assert await backend_pid(idle) != first  # pinged, found dead, replaced: the caller never saw it

        # Used a moment ago: not pinged (that is the saving), so the one operation on it fails...
        await kill(await backend_pid(busy))
        with pytest.raises(DBAPIError):
            await backend_pid(busy)
        assert await backend_pid(busy)  # ...and the pool has dropped it: the next one gets a fresh connection
    finally:
        for engine in (idle, busy, killer):
            await engine.dispose()


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
        done = await jobs.finish(s, job=claimed[0], now=T0)
    assert done.ours and done.successor  # b may start now: the worker looks again at once
    async with transaction(sessions) as s:
        [bj] = await jobs.claim(s, now=T0, lease_s=30, limit=10)
    assert bj.id == b.id
    async with transaction(sessions) as s:
        done = await jobs.finish(s, job=bj, now=T0)
    assert done.ours and not done.successor
    # c's worker died: after its lease it is claimed again, and the stale owner cannot finish it.
    async with transaction(sessions) as s:
        again = await jobs.claim(s, now=T0 + timedelta(seconds=31), lease_s=30, limit=10)
    assert [j.id for j in again] == [c.id] and again[0].attempts == 2
    async with transaction(sessions) as s:
        assert not await jobs.finish(s, job=claimed[1], now=T0)
        assert await jobs.finish(s, job=again[0], now=T0)
    assert [j.id for j in claimed] == sorted(j.id for j in claimed)  # a claim comes soonest first


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
