"""A soak: simulated days of orders and clicks, the clock sped up through the settings (retention of seconds,
passes every few seconds, Shopify tokens of two seconds), while the server is killed with -9 and restarted and
sandbox Shopify and Slack fail a share of calls. At the end nothing is lost or doubled (the sandboxes' own
records), the jobs table holds no more than the retention window's worth, and the figures (the server's resident
memory over time and its slope, decision latency at the start and the end) are printed as one JSON object.

The short variant runs in CI; HOLDFAST_SOAK=1 runs the long one (its figures go in the stop's note).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from pathlib import Path

from tests.e2e.conftest import STAFF
from tests.reliability.procs import Procs, message_status
from tests.reliability.test_crash import Clicker, wanted

LONG = os.environ.get("HOLDFAST_SOAK", "") not in ("", "0")
ROUNDS = 60 if LONG else 10
PER_ROUND = 8 if LONG else 4
KILL_EVERY = 20 if LONG else 4  # the long run keeps a process up for 20 rounds: its memory over time
RETENTION_S = 4
SPED_UP = {"HOLDFAST_JOB_RETENTION_S": str(RETENTION_S), "HOLDFAST_PRUNE_EVERY_S": "2",
           "HOLDFAST_PERIODIC_RETENTION_S": "6", "HOLDFAST_RECONCILE_EVERY_S": "30",
           "HOLDFAST_RECONCILE_GRACE_S": "2", "HOLDFAST_SHOPIFY_TOKEN_RENEW_MARGIN_S": "0"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points (0 for fewer than two)."""
    if len(points) < 2:
        return 0.0
    return statistics.linear_regression([x for x, _ in points], [y for _, y in points]).slope


class TimedClicker(Clicker):
    """The crash test's approver, who also notes how long each acknowledged decision took (the /decide call
    alone: reading the sandbox's whole state to find the next message grows with the run, the bot's answer should not)."""

    def __init__(self, procs: Procs):
        super().__init__(procs)
        self.latencies: list[float] = []

    async def decide(self, click: dict) -> dict:
        started = time.monotonic()
        reply = await super().decide(click)
        if reply.get("status") == 200:
            self.latencies.append(time.monotonic() - started)
        return reply


async def test_soak_nothing_lost_or_doubled_tables_bounded(database_url, tmp_path):
    procs = Procs(database_url, tmp_path, **SPED_UP)
    await procs.start()
    try:
        # Before the first token: 2-second tokens. A large cost bucket: this is about durability over time, not
        # Shopify's rate (bench/throttle.py measures that), and days of orders must not queue behind it.
        await procs.post("/faults", {"tokens": {"client_credentials_ttl_s": 2},
                                     "bucket": {"size": 20000, "restore_rate": 2000}})
        await procs.serve()
        await procs.post("/faults", {
                                     "shopify": {"rate": 0.05, "kinds": ["5xx", "throttled"], "seed": 7},
                                     "slack": {"rate": 0.05, "kinds": ["429", "5xx"], "seed": 8}})
        clicker = TimedClicker(procs)
        clicking = asyncio.create_task(clicker.run())
        segments: list[list[tuple[float, float]]] = [[]]  # per server process: (round, resident MB)
        started = time.monotonic()
        for n in range(ROUNDS):
            await procs.post("/orders/bulk", {"count": PER_ROUND, "spec": STAFF, "concurrency": 4})
            if n % KILL_EVERY == KILL_EVERY - 1:
                procs.kill9("web")
                await asyncio.sleep(0.3)
                await procs.serve()
                segments.append([])
            await asyncio.sleep(1.0)
            segments[-1].append((n, rss_mb(procs.procs["web"].pid)))
        await procs.post("/faults", {"shopify": {"rate": 0}, "slack": {"rate": 0}})
        redelivered = (await procs.post("/webhooks/redeliver", {}))["redelivered"]
        assert all(status == 200 for status in redelivered.values()), redelivered
        total = ROUNDS * PER_ROUND
        deadline = asyncio.get_running_loop().time() + 120 + total
        while len(clicker.acked) < total and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
        clicker.stop.set()
        await clicking
        await procs.settle(timeout=120 + total)
        await asyncio.sleep(2 * 2 + 1)  # two pruning periods
        await procs.settle(timeout=60)

        state = await procs.get("/state")
        orders = {o["gid"]: o for o in state["orders"]}
        rows = await procs.db("SELECT order_gid, id, status FROM approval_request")
        assert len(orders) == total and sorted(r[0] for r in rows) == sorted(orders)  # none lost, none doubled
        assert len(clicker.acked) == total
        for gid, rid, status in rows:
            order = orders[gid]
            assert status == clicker.acked[rid] == wanted(rid), order["name"]
            assert all(n <= 1 for n in order["hold_calls"].values()), order["name"]
            if status == "approved":
                assert order["release_calls"] == order["hold_calls"], order["name"]
            else:
                assert all(n == 0 for n in order["release_calls"].values()), order["name"]
        messages = [m for m in state["messages"] if not m["thread_ts"] and m["request_id"] is not None]
        assert sorted(m["request_id"] for m in messages) == sorted(r[1] for r in rows)
        assert all(message_status(m["text"]) == clicker.acked[m["request_id"]] for m in messages)
        assert await procs.db("SELECT kind, last_error FROM job WHERE status = 'dead'") == []
        # Bounded: no finished job older than the retention window (and a pruning period) is left.
        old = await procs.db(f"SELECT count(*) FROM job WHERE status IN ('done', 'cancelled') AND updated_at < "
                             f"{now_minus(database_url, RETENTION_S + 3)}")
        assert old == [(0,)], old
        jobs_left = (await procs.db("SELECT count(*) FROM job"))[0][0]
        third = max(1, len(clicker.latencies) // 3)
        figures = {
            "rounds": ROUNDS, "orders": total, "kills": ROUNDS // KILL_EVERY, "seconds": round(time.monotonic() - started),
            "token_requests": state["token_requests"], "jobs_left": jobs_left,
            "jobs_created": (await procs.db("SELECT max(id) FROM job"))[0][0],
            "rss_mb_longest_process": [round(mb, 1) for _, mb in max(segments, key=len)],
            "rss_slope_mb_per_round": round(slope(max(segments, key=len)), 3),
            "decision_ack_s_start_median": round(statistics.median(clicker.latencies[:third]), 3),
            "decision_ack_s_end_median": round(statistics.median(clicker.latencies[-third:]), 3),
        }
        print(json.dumps(figures))
        assert figures["jobs_left"] < figures["jobs_created"]  # retention pruned as it went
    finally:
        await procs.stop()


def now_minus(database_url: str, seconds: int) -> str:
    """SQL for "now less `seconds`", in the database's own dialect (timestamps are stored in UTC)."""
    if database_url.startswith("sqlite"):
        return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{seconds} seconds')"
    return f"(now() - interval '{seconds} seconds')"
