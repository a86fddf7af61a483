"""bench.ingest: signed orders/create webhooks at concurrency 64 from a separate load process, against
`holdfast serve` and, in the same run, against a bare aiohttp app that only checks the HMAC (the ceiling).

    python -m bench.ingest [--db sqlite|postgres] [--count 2000] [--concurrency 64]

Prints one JSON object: holdfast_rps, baseline_rps, ratio, p50_ms, p99_ms, non_2xx, db, stored (webhook receipts
in the database == webhooks accepted). Goal: ratio >= 0.5, p99 < 50 ms, non_2xx 0, stored true.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bench.common import database, emit, log, machine, processes
from sandbox.devserver import SHOP, WEBHOOK_SECRET
from tests.reliability.procs import ROOT, free_port


async def load(url: str, count: int, concurrency: int) -> dict:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench._load", url, "--count", str(count), "--concurrency", str(concurrency),
        "--secret", WEBHOOK_SECRET, "--shop", SHOP, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    return json.loads(out)


async def baseline(count: int, concurrency: int, procs) -> dict:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench._baseline", "--port", str(port),
                                                "--secret", WEBHOOK_SECRET, cwd=ROOT)
    try:
        await procs.wait_http(f"http://127.0.0.1:{port}/healthz")
        return await load(f"http://127.0.0.1:{port}/shopify/webhooks", count, concurrency)
    finally:
        proc.terminate()
        await proc.wait()


async def main(args: argparse.Namespace) -> dict:
    async with database(args.db) as url, processes(url, HOLDFAST_RUN_SCHEDULER="false") as procs:
        base = await baseline(args.count, args.concurrency, procs)
        log(f"baseline: {base}")
        bot = await procs.serve()
        result = await load(f"{bot}/shopify/webhooks", args.count, args.concurrency)
        log(f"holdfast: {result}")
        stored = (await procs.db("SELECT count(*) FROM webhook_receipt"))[0][0]
    return {"holdfast_rps": result["rps"], "baseline_rps": base["rps"],
            "ratio": round(result["rps"] / base["rps"], 3), "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"],
            "baseline_p99_ms": base["p99_ms"], "non_2xx": result["non_2xx"], "db": args.db,
            "stored": stored == result["accepted"], "stored_count": stored, "accepted": result["accepted"],
            "count": args.count, "concurrency": args.concurrency, **machine()}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=64)
    emit(asyncio.run(main(p.parse_args())))
