"""Resident memory of `holdfast serve` with 100,000 pending requests in its database.

    python -m bench.memory [--requests 100000]

Seeds a SQLite database (through the real migrations) with N pending requests, starts `holdfast serve` on
it as a separate process, lets its worker and scheduler start, and reads the process's resident set size
(VmRSS). The baseline, measured in the same run, is the same command on an empty database. Prints ONE
JSON object; the goal is under 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from bench.reports_at_size import POLICIES, seed
from bot.app import build_runtime
from bot.approvals.policies import load_text
from bot.settings import Settings
from storage.db import migrate

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def serve_rss(url: str, policy_file: Path, settle_s: float) -> float:
    port = _port()
    env = {**os.environ, "DATABASE_URL": url, "HOLDFAST_CONFIG": str(policy_file), "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": "s", "SHOPIFY_API_SECRET": "s", "SHOPIFY_SHOPS": "s.myshopify.com=t",
           "HOLDFAST_SECRET_KEY": Fernet.generate_key().decode(),
           "HOLDFAST_PID_FILE": "", "HOLDFAST_SLACK_API_URL": "http://127.0.0.1:9/api/",
           "HOLDFAST_SHOPIFY_ADMIN_URL": "http://127.0.0.1:9/{shop}/admin/api/{version}/graphql.json"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
                                                cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("holdfast serve did not start")
                await asyncio.sleep(0.2)
        await asyncio.sleep(settle_s)  # worker, scheduler and first periodic runs
        return _rss_mb(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=100_000)
    p.add_argument("--settle", type=float, default=5.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        policy_file = Path(tmp) / "holdfast.yml"
        policy_file.write_text(POLICIES)
        urls = {}
        for name, n in (("empty", 0), ("seeded", args.requests)):
            url = f"sqlite+aiosqlite:///{tmp}/{name}.db"
            rt = build_runtime(Settings(database_url=url), policies=load_text(POLICIES))
            await migrate(rt.engine)
            if n:
                print(f"seeding {n:,} pending requests…", file=sys.stderr, flush=True)
                await seed(rt, n, 1000, pending_every=1)
            await rt.engine.dispose()
            urls[name] = url
        baseline = await serve_rss(urls["empty"], policy_file, args.settle)
        seeded = await serve_rss(urls["seeded"], policy_file, args.settle)
    print(json.dumps({"bench": "memory", "pending_requests": args.requests, "rss_mb": round(seeded, 1),
                      "baseline_rss_mb": round(baseline, 1), "ratio": round(seeded / baseline, 3),
                      "goal_mb": 200}))


if __name__ == "__main__":
    asyncio.run(main())
