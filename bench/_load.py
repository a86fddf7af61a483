"""The load generator of bench.ingest, run as its own process: signed orders/create webhooks, unique webhook ids,
fixed count, fixed concurrency. Prints one JSON object: rps, latencies, statuses."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import aiohttp

from sandbox.shopify import API_VERSION
from sandbox.webhooks import sign_shopify_webhook


def order(i: int) -> dict:
    # An ordinary order: matches no policy, so the bot's worker does only the matching.
    return {"id": 820982911946154500 + i, "admin_graphql_api_id": f"gid://shopify/Order/{820982911946154500 + i}",
            "name": f"#{10000 + i}", "email": "joe@example.com", "currency": "USD", "total_price": "12.00",
            "subtotal_price": "12.00", "total_discounts": "0.00", "financial_status": "paid", "tags": "",
            "source_name": "web", "discount_codes": [], "note_attributes": [],
            "customer": {"id": 1, "email": "joe@example.com", "first_name": "Joe", "tags": ""},
            "line_items": [{"id": i, "title": "Mug", "sku": "MUG-1", "quantity": 1, "price": "12.00",
                            "vendor": "Acme"}]}


async def run(url: str, count: int, concurrency: int, secret: str, shop: str, warmup: int) -> dict:
    bodies = [json.dumps(order(i), separators=(",", ":")).encode() for i in range(count + warmup)]
    requests = [(b, {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                     "X-Shopify-Shop-Domain": shop, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                     "X-Shopify-Event-Id": str(uuid.uuid4()), "X-Shopify-API-Version": API_VERSION,
                     "X-Shopify-Hmac-Sha256": sign_shopify_webhook(secret, b)}) for b in bodies]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def send(items, record: bool) -> None:
            for body, headers in items:
                start = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status = 0
                if record:
                    latencies.append((time.perf_counter() - start) * 1000)
                    statuses[status] = statuses.get(status, 0) + 1

        warm = requests[:warmup]
        await asyncio.gather(*(send(warm[i::concurrency], False) for i in range(concurrency)))
        timed = requests[warmup:]
        start = time.perf_counter()
        await asyncio.gather(*(send(timed[i::concurrency], True) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda p: round(latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))], 2)  # noqa: E731
    return {"count": count, "seconds": round(elapsed, 3), "rps": round(count / elapsed, 1), "p50_ms": pick(50),
            "p99_ms": pick(99), "statuses": statuses,
            "accepted": sum(n for s, n in statuses.items() if 200 <= s < 300) + warmup,
            "non_2xx": sum(n for s, n in statuses.items() if not 200 <= s < 300)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url"), p.add_argument("--count", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=64), p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--secret", required=True), p.add_argument("--shop", required=True)
    a = p.parse_args()
    print(json.dumps(asyncio.run(run(a.url, a.count, a.concurrency, a.secret, a.shop, a.warmup))))


if __name__ == "__main__":
    main()
