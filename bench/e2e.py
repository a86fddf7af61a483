"""bench.e2e: end-to-end latency of the two paths an approver feels, against real processes.

    python -m bench.e2e [--db sqlite|postgres] [--rate 50] [--seconds 20] [--workers N]

1. Orders: the sandbox Shopify sends signed orders/create webhooks at a steady --rate for --seconds to
   `holdfast serve` (worker in the same process, as in the demo; or, with --workers N, the Procfile's split:
   `serve --no-worker` and N `holdfast worker` processes); we time webhook sent → last hold placed
   (from the sandbox's own mutation log) and webhook sent → request message posted (the Slack message's ts).
2. Clicks: an approver clicks Approve on each message at the same steady rate; we time click sent → hold
   released and click sent → message updated to its final state.
Baseline, same run, same sandbox: the external round trips each path cannot avoid (read the fulfillment
orders, hold/release each one, post/update the message), made one after another by a bare aiohttp client at
the same rate. The sandbox is unthrottled. Goal: p99 < 250 ms on every path. Prints ONE JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

import aiohttp

from bench.common import cpu_seconds, database, emit, log, machine, machine_busy_seconds, percentile, processes
from bot.shopify import documents as gql
from sandbox.devserver import BOT_TOKEN, SHOP, SHOP_TOKEN
from sandbox.shopify import API_VERSION
from tests.e2e.conftest import STAFF
from tests.reliability.procs import Procs, message_status

PRODUCTION = {"HOLDFAST_JOB_LEASE_S": "60", "HOLDFAST_SHOPIFY_TIMEOUT_S": "10", "HOLDFAST_SLACK_TIMEOUT_S": "10",
              "HOLDFAST_RUN_SCHEDULER": "false"}
CHANNEL = "C0APPROVALS"


def stats(values: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50) or 0, 1), "p99_ms": round(percentile(ms, 99) or 0, 1),
            "max_ms": round(max(ms, default=0), 1)}


async def paced(count: int, rate: float, one) -> None:
    """Start `one(i)` at a steady rate (not waiting for the previous one), then wait for all."""
    loop = asyncio.get_running_loop()
    start, tasks = loop.time(), []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)


async def baseline(procs: Procs, count: int, rate: float) -> dict[str, Any]:
    """The unavoidable round trips of each path, by a bare client against the same sandbox."""
    shopify = procs.env["HOLDFAST_SHOPIFY_ADMIN_URL"].format(shop=SHOP, version=API_VERSION)
    slack = procs.env["HOLDFAST_SLACK_API_URL"]
    orders = [await procs.post("/orders", {**STAFF}) for _ in range(count)]  # the bot is not up: no webhook
    hold_s: list[float] = []
    release_s: list[float] = []
    async with aiohttp.ClientSession() as http:
        async def gql_call(document: str, variables: dict[str, Any], name: str) -> dict[str, Any]:
            async with http.post(shopify, json={"query": document, "variables": variables, "operationName": name},
                                 headers={"X-Shopify-Access-Token": SHOP_TOKEN}) as resp:
                return await resp.json()

        async def slack_call(method: str, body: dict[str, Any]) -> dict[str, Any]:
            async with http.post(slack + method, json=body, headers={"Authorization": f"Bearer {BOT_TOKEN}"}) as r:
                return await r.json()

        async def fos(gid: str) -> list[dict[str, Any]]:
            reply = await gql_call(gql.ORDER_FULFILLMENT_ORDERS, {"id": gid}, "OrderFulfillmentOrders")
            return reply["data"]["order"]["fulfillmentOrders"]["nodes"]

        async def hold_path(i: int) -> None:
            start = time.perf_counter()
            for fo in await fos(orders[i]["gid"]):
                await gql_call(gql.FULFILLMENT_ORDER_HOLD, {"id": fo["id"], "hold": {
                    "reason": "OTHER", "reasonNotes": "bench", "handle": "holdfast-bench"}}, "FulfillmentOrderHold")
            posted = await slack_call("chat.postMessage", {"channel": CHANNEL, "text": f"Order {i} needs approval"})
            hold_s.append(time.perf_counter() - start)
            orders[i]["ts"] = posted["ts"]

        async def release_path(i: int) -> None:
            start = time.perf_counter()
            for fo in await fos(orders[i]["gid"]):
                await gql_call(gql.FULFILLMENT_ORDER_RELEASE_HOLD, {"id": fo["id"], "holdIds": None},
                               "FulfillmentOrderReleaseHold")
            await slack_call("chat.update", {"channel": CHANNEL, "ts": orders[i]["ts"], "text": "Approved"})
            release_s.append(time.perf_counter() - start)

        await paced(count, rate, hold_path)
        await paced(count, rate, release_path)
    return {"hold_and_post": stats(hold_s), "release_and_update": stats(release_s)}


async def wait_for(procs: Procs, done, what: str, timeout: float = 120.0) -> dict[str, Any]:
    """Wait until no job is busy, then check the sandbox's records (its /state is too heavy to poll under load)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if not await procs.busy_jobs():
            state = await procs.get("/state")
            if done(state):
                return state
        if loop.time() > deadline:
            raise TimeoutError(f"{what}: not done after {timeout}s")
        await asyncio.sleep(0.5)


def top_level(state: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {m["request_id"]: m for m in state["messages"] if m["request_id"] is not None and not m["thread_ts"]}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    count = int(args.rate * args.seconds)
    async with database(args.db) as url, processes(url, **PRODUCTION) as procs:
        # Unthrottled: this measures holdfast's own latency, not Shopify's rate limit (bench.throttle does that).
        await procs.post("/faults", {"bucket": {"size": 1e9, "restore_rate": 1e9}})
        log(f"baseline: {args.baseline} orders at {args.rate}/s, bare client …")
        base = await baseline(procs, args.baseline, args.rate)
        log(f"baseline: {base}")
        await procs.serve(no_worker=args.workers > 0)
        for i in range(args.workers):  # the Procfile's split: `web` answers, `worker` processes run the jobs
            await procs.worker(f"worker{i}")
        known = {o["gid"] for o in (await procs.get("/state"))["orders"]}
        ours = [p.pid for name, p in procs.procs.items() if name not in ("sandbox", "migrate")]
        sandbox = [procs.procs["sandbox"].pid]
        cpu_before, sandbox_before, busy_before = cpu_seconds(ours), cpu_seconds(sandbox), machine_busy_seconds()
        wall_before = time.monotonic()

        log(f"orders: {count} webhooks at {args.rate}/s …")
        burst = (await procs.post("/orders/bulk", {"count": count, "spec": STAFF, "rate": args.rate,
                                                   "concurrency": 64}))["orders"]
        gids = {o["gid"] for o in burst} - known

        def all_posted(state: dict[str, Any]) -> bool:
            mine = [o for o in state["orders"] if o["gid"] in gids]
            return all(o["held_at"] for o in mine) and len(top_level(state)) >= len(gids)

        state = await wait_for(procs, all_posted, "holds and messages")
        rows = await procs.db("SELECT id, order_gid FROM approval_request")
        request_of = {gid: rid for rid, gid in rows}
        messages = top_level(state)
        held, posted = [], []
        for order in (o for o in state["orders"] if o["gid"] in gids):
            held.append(order["held_at"] - order["sent_at"])
            posted.append(float(messages[request_of[order["gid"]]]["ts"]) - order["sent_at"])

        log(f"clicks: {len(gids)} approvals at {args.rate}/s …")
        clicked: dict[int, float] = {}
        targets = [messages[request_of[g]] for g in gids]

        acked: list[float] = []

        async def click(i: int) -> None:
            m = targets[i]
            reply = await procs.post("/click", {"channel": m["channel"], "ts": m["ts"], "action_id": "request-approve",
                                                "user": "U0ANA"})
            if reply.get("status") == 200:
                clicked[m["request_id"]] = reply["sent_at"]
                acked.append(time.time() - reply["sent_at"])  # (an upper bound: includes the reply's way back)

        await paced(len(targets), args.rate, click)

        def all_released(state: dict[str, Any]) -> bool:
            done = top_level(state)
            return all(o["released_at"] for o in state["orders"] if request_of.get(o["gid"]) in clicked) and all(
                message_status(done[r]["text"]) == "approved" for r in clicked)

        state = await wait_for(procs, all_released, "releases and message updates")
        cpu_after, sandbox_after, busy_after = cpu_seconds(ours), cpu_seconds(sandbox), machine_busy_seconds()
        wall = time.monotonic() - wall_before
        retried = dict(await procs.db("SELECT kind, count(*) FROM job WHERE attempts > 1 GROUP BY kind"))
        # Where the time goes: each job kind's count and mean time from enqueued to done.
        by_kind: dict[str, list[float]] = {}
        for kind, created, updated in await procs.db("SELECT kind, created_at, updated_at FROM job WHERE status = 'done'"):
            if isinstance(created, str):
                from datetime import datetime
                created, updated = datetime.fromisoformat(created), datetime.fromisoformat(updated)
            by_kind.setdefault(kind, []).append((updated - created).total_seconds())
        job_ms = {k: {"n": len(v), "mean_ms": round(1000 * sum(v) / len(v), 1)} for k, v in sorted(by_kind.items())}
        log(f"jobs done, enqueued → done: {job_ms}")
        errors = [r[0] for r in await procs.db("SELECT DISTINCT last_error FROM job WHERE attempts > 1 LIMIT 5")]
        log(f"jobs that needed more than one attempt: {retried} {errors}")
        messages = top_level(state)
        released, updated = [], []
        for order in (o for o in state["orders"] if request_of.get(o["gid"]) in clicked):
            rid = request_of[order["gid"]]
            released.append(order["released_at"] - clicked[rid])
            updated.append(float(messages[rid]["edited_ts"]) - clicked[rid])
    result = {"click_to_ack": stats(acked), "webhook_to_hold": stats(held), "webhook_to_message": stats(posted),
              "click_to_release": stats(released), "click_to_update": stats(updated)}
    worst = max(p["p99_ms"] for p in result.values())
    return {"bench": "e2e", "db": args.db, "rate": args.rate, "seconds": args.seconds, "workers": args.workers,
            "orders": len(gids),
            "clicks_acked": len(clicked), **result, "jobs_retried": retried, "jobs": job_ms, "baseline": base,
            "ratio_p50_order_path": round(result["webhook_to_message"]["p50_ms"] / base["hold_and_post"]["p50_ms"], 2),
            "ratio_p50_click_path": round(result["click_to_update"]["p50_ms"] / base["release_and_update"]["p50_ms"], 2),
            "worst_p99_ms": worst, "goal_met": worst < 250,
            # CPU per order flagged, held, posted, approved and released: holdfast's own processes; the sandbox
            # (both fake APIs); and the whole machine (those, the database server, this load generator, the rest)
            "cpu_ms_per_order": per_order(cpu_before, cpu_after, len(gids)),
            "sandbox_cpu_ms_per_order": per_order(sandbox_before, sandbox_after, len(gids)),
            "machine_cpu_ms_per_order": per_order(busy_before, busy_after, len(gids)),
            # how busy the cores were from the first webhook to the last release (1.0: every core, all the time)
            "machine_busy_share": round((busy_after - busy_before) / (wall * (os.cpu_count() or 1)), 2)
            if busy_before is not None and busy_after is not None else None, **machine()}


def per_order(before: float | None, after: float | None, orders: int) -> float | None:
    return round(1000 * (after - before) / orders, 1) if before is not None and after is not None and orders else None


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--rate", type=float, default=10.0)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--workers", type=int, default=0,
                   help="0: `serve` runs the worker in-process (the demo); N: `serve --no-worker` and N `holdfast worker`")
    p.add_argument("--baseline", type=int, default=200, help="orders timed for the bare-client baseline")
    emit(asyncio.run(main(p.parse_args())))
