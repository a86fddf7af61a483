"""A claimed batch's jobs read their request from the claim's own queries, not a session each."""

from sqlalchemy import event

from bot.approvals.effects import JobKind
from bot.blocks.ids import ActionId
from bot.features.requests.common import load_copies, load_decisions, load_request, prefetch, redraw, say_in_thread
from storage import jobs
from storage.db import transaction
from tests.e2e.conftest import STAFF


async def test_a_claimed_redraw_reads_what_its_claim_loaded_and_the_worker_forgets_it(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    status, _ = await stack.click(req, ActionId.APPROVE, "U0ANA")
    assert status == 200
    await stack.settle()
    assert stack.rt.loaded == {}  # each job's claim-time load is dropped when the job ends
    await stack.stop_bot()  # from here on only this test claims

    rt, decided = stack.rt, await stack.request_for(order)
    async with transaction(rt.sessions) as s:
        redraw(rt, s, decided)
    async with transaction(rt.sessions) as s:
        [job] = await jobs.claim(s, now=rt.now(), lease_s=30, limit=10)
        await prefetch(rt, s, [job])
    assert job.kind == JobKind.UPDATE_REQUEST

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(statement)

    event.listen(rt.engine.sync_engine, "before_cursor_execute", seen)
    try:
        loaded = await load_request(rt, job)
        votes = await load_decisions(rt, job, loaded)
        copies = await load_copies(rt, job, loaded)
    finally:
        event.remove(rt.engine.sync_engine, "before_cursor_execute", seen)
    assert statements == []
    assert (loaded.id, loaded.status, loaded.message_ts) == (decided.id, "approved", decided.message_ts)
    assert [(d.user_id, d.vote) for d in votes] == [("U0ANA", "approve")] and copies == []

    rt.loaded.clear()  # without the claim's load, the same calls read the database
    event.listen(rt.engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert (await load_request(rt, job)).id == decided.id
        assert len(await load_decisions(rt, job, loaded)) == 1
    finally:
        event.remove(rt.engine.sync_engine, "before_cursor_execute", seen)
    assert sum(s.lstrip().startswith("SELECT") for s in statements) == 2


async def test_a_claim_loads_votes_only_for_jobs_that_draw_the_message(stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    await stack.stop_bot()  # from here on only this test claims
    rt, req = stack.rt, await stack.request_for(order)
    async with transaction(rt.sessions) as s:
        say_in_thread(rt, s, req, "a notice draws no message")

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(statement)

    async with transaction(rt.sessions) as s:
        [job] = await jobs.claim(s, now=rt.now(), lease_s=30, limit=10)
        event.listen(rt.engine.sync_engine, "before_cursor_execute", seen)
        try:
            await prefetch(rt, s, [job])
        finally:
            event.remove(rt.engine.sync_engine, "before_cursor_execute", seen)
    assert job.kind == JobKind.THREAD_NOTICE
    assert len(statements) == 1 and "approval_request" in statements[0]  # the request alone: no votes, no copies
    assert rt.loaded[job.id].decisions is None and (await load_request(rt, job)).id == req.id
    assert await load_decisions(rt, job, req) == []  # asked anyway: read from the database
