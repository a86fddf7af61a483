"""Policy backtest throughput: orders evaluated per second against the example policies.

    python -m bench.backtest [--orders 100000]

Writes N generated webhook-shaped orders as JSON lines to a temp file, then times, in the same run,
(a) the baseline: streaming the file and parsing each order's JSON only, and (b) `holdfast policy
test`'s pipeline: streaming, normalising and matching every order. Prints ONE JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from bot.policy_file import load_file
from bot.cli.backtest import Summary, evaluate, read_orders

ROOT = Path(__file__).resolve().parents[1]


def generate(path: Path, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with path.open("w") as f:
        for i in range(n):
            price = rnd.choice(["12.00", "49.00", "150.00", "1200.00", "6400.00"])
            qty = rnd.randint(1, 4)
            f.write(json.dumps({
                "id": i + 1, "name": f"#{1000 + i}", "currency": "USD", "total_price": str(float(price) * qty),
                "total_line_items_price": str(float(price) * qty), "total_discounts": rnd.choice(["0.00", "0.00", "5.00"]),
                "tags": rnd.choice(["", "", "staff", "vip"]), "email": f"c{i}@{rnd.choice(['example.com', 'mailinator.com'])}",
                "customer": {"email": f"c{i}@example.com", "tags": rnd.choice(["", "wholesale", "staff"]),
                             "orders_count": rnd.randint(1, 20)},
                "line_items": [{"title": "Item", "quantity": qty, "price": price,
                                "sku": rnd.choice(["MUG-1", "TRIAL-30", "KIT-9"]), "vendor": "Acme"}],
                "shipping_address": {"country_code": rnd.choice(["US", "US", "DE", "FR"])},
                "discount_codes": [{"code": "INFLUENCER10"}] if rnd.random() < 0.05 else [],
            }) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=100_000)
    args = p.parse_args()
    policies = load_file(ROOT / "holdfast.example.yml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.jsonl"
        generate(path, args.orders)
        print(f"generated {args.orders:,} orders ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
        started = time.perf_counter()
        with path.open() as f:
            parsed = sum(1 for _ in read_orders(f))
        baseline_s = time.perf_counter() - started
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        summary, started = Summary(), time.perf_counter()
        with path.open() as f:
            for row in evaluate(policies, read_orders(f)):
                summary.add(row)
        backtest_s = time.perf_counter() - started
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert parsed == summary.orders == args.orders
    print(json.dumps({
        "bench": "backtest", "orders": args.orders, "policies": len(policies.policies),
        "orders_per_s": round(args.orders / backtest_s), "baseline_parse_per_s": round(args.orders / baseline_s),
        "ratio": round(baseline_s / backtest_s, 3), "seconds": round(backtest_s, 2),
        "peak_rss_growth_mb": round(grown / 1024, 1), "flagged": dict(summary.flagged),
        "unreadable": summary.unreadable,
    }))


if __name__ == "__main__":
    main()
