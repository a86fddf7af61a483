"""Two `holdfast serve --no-worker` and two `holdfast worker` processes on one PostgreSQL database under a
webhook burst (sent to both web processes) and the approvals that follow: no job executed twice, no request
created twice. Checked in the jobs table (every job done at its first attempt) and in the sandbox's own call
records (one fulfillment-order read per hold or release job, one hold and one release per fulfillment order,
one chat.postMessage per request)."""

from __future__ import annotations


import pytest

from tests.e2e.conftest import STAFF
from tests.reliability.conftest import HEAVY
from tests.reliability.procs import message_status

ORDERS = 400 if HEAVY else 60


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("scale-out needs PostgreSQL (SQLite runs one `holdfast serve`); "
                    "set DATABASE_URL=postgresql://… to run it")


async def test_two_web_two_workers_nothing_twice(postgres_only, procs):
    # Leases long enough that only a real double-claim (not a slow job) could run a job twice; no periodic
    # reconciliation (its retries are not the subject here); an unthrottled Shopify so the burst is quick.
    procs.env.update(HOLDFAST_JOB_LEASE_S="60", HOLDFAST_RUN_SCHEDULER="false")
    await procs.post("/faults", {"bucket": {"size": 1_000_000, "restore_rate": 100_000}})
    urls = [await procs.serve(f"web{i}", no_worker=True) for i in (1, 2)]
    for i in (1, 2):
        await procs.worker(f"worker{i}")
    burst = await procs.post("/orders/bulk", {"count": ORDERS, "spec": STAFF, "concurrency": 32,
                                              "urls": [f"{u}/shopify/webhooks" for u in urls]})
    assert all(o["webhook_status"] == 200 for o in burst["orders"]), burst["orders"][:3]
    await procs.settle(timeout=120)
    state = await procs.get("/state")
    for m in state["messages"]:
        if not m["thread_ts"] and m["request_id"] is not None:
            reply = await procs.post("/decide", {"channel": m["channel"], "ts": m["ts"], "user": "U0ANA",
                                                 "action_id": "request-approve"})
            assert reply.get("status") == 200, reply
    await procs.settle(timeout=120)

    # No request created twice; every order flagged once.
    rows = await procs.db("SELECT order_gid, count(*) FROM approval_request GROUP BY order_gid")
    assert len(rows) == ORDERS and all(n == 1 for _, n in rows)
    # No job executed twice: each ran once, at its first attempt, and finished.
    jobs = await procs.db("SELECT kind, status, attempts FROM job")
    assert [j for j in jobs if j[1] != "done" or j[2] != 1] == []
    per_kind = {k: sum(1 for j in jobs if j[0] == k) for k in {j[0] for j in jobs}}
    state = await procs.get("/state")
    calls = state["shopify_calls"]
    for order in state["orders"]:
        assert set(order["hold_calls"].values()) == {1}, order["name"]
        assert set(order["release_calls"].values()) == {1}, order["name"]
        assert all(fo["status"] == "OPEN" for fo in order["fulfillment_orders"])
    assert calls.get("fulfillmentOrderHold 200", 0) == sum(len(o["fulfillment_orders"]) for o in state["orders"])
    # Four processes, one client-credentials token: it is fetched once and shared through the shop table.
    assert state["token_requests"] == {"client_credentials 200": 1}
    assert per_kind.get("slack.post_request") == ORDERS
    messages = [m for m in state["messages"] if not m["thread_ts"] and m["request_id"] is not None]
    assert sorted(m["request_id"] for m in messages) == sorted({m["request_id"] for m in messages})
    assert len(messages) == ORDERS and all(message_status(m["text"]) == "approved" for m in messages)
    # Both web processes took webhooks and both workers ran jobs.
    for name in ("web1", "web2", "worker1", "worker2"):
        assert procs.procs[name].returncode is None, procs.log(name)[-2000:]
