"""Holding under Shopify's rate limit: how close holdfast gets to the minimum the cost bucket allows.

    python -m bench.throttle [--orders 500] [--bucket 1000] [--restore-rate 50]

N flagged orders arrive as signed webhooks at once; the sandbox Shopify throttles like the real one (a
leaky bucket of --bucket points restoring --restore-rate points/s). We time until every fulfillment
order is held and compare with the theoretical minimum the bucket imposes, (total cost − bucket) /
restore rate, where total cost is what Shopify actually charged for everything holdfast sent.
Prints ONE JSON object. (The issue's full setting, 500 orders at 50 points/s, takes several minutes.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from bot.cli.devstack import DevStack

STAFF = dict(line_items=[{"title": "Mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}],
             customer={"email": "s@x.example", "first_name": "Sam", "tags": ["staff"]})


async def run(orders: int, bucket: float, restore: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        stack = DevStack(database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}", worker_concurrency=16,
                         job_max_attempts=50)
        stack.shopify.bucket_size, stack.shopify.restore_rate = bucket, restore
        async with stack:
            created = [stack.shopify.create_order("demo-store.myshopify.com", **STAFF) for _ in range(orders)]
            started = time.monotonic()
            await asyncio.gather(*(stack.shopify.deliver_webhook("demo-store.myshopify.com", "orders/create",
                                                                 o.webhook_body()) for o in created))
            while True:
                held = sum(all(fo.status == "ON_HOLD" for fo in stack.shopify.orders[o.gid].fulfillment_orders)
                           for o in created)
                dead = await stack.jobs(status="dead")
                if held == orders or dead:
                    break
                print(f"  {held}/{orders} held after {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
                await asyncio.sleep(1.0)
            seconds = time.monotonic() - started
            for job in dead:
                print(f"  dead job {job.id} {job.kind} after {job.attempts} attempts: {job.last_error}",
                      file=sys.stderr, flush=True)
            calls = stack.shopify.calls
            cost = sum(c.get("actual_cost") or 0 for c in calls if c.get("status") == 200 and not c.get("throttled"))
            throttled = sum(1 for c in calls if c.get("throttled"))
            minimum = max(0.0, (cost - bucket) / restore)
            return {"bench": "throttle", "orders": orders, "bucket": bucket, "restore_rate": restore,
                    "seconds": round(seconds, 2), "theoretical_min_s": round(minimum, 2),
                    "ratio": round(seconds / minimum, 3) if minimum else None, "total_cost": cost,
                    "requests": len(calls), "throttled_replies": throttled,
                    "throttled_share": round(throttled / max(1, len(calls)), 4), "failed": len(dead)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=500)
    p.add_argument("--bucket", type=float, default=1000.0)
    p.add_argument("--restore-rate", type=float, default=50.0)
    args = p.parse_args()
    print(json.dumps(asyncio.run(run(args.orders, args.bucket, args.restore_rate))))


if __name__ == "__main__":
    main()
