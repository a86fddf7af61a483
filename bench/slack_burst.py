"""A burst of requests to one Slack channel: how close holdfast gets to the minimum Slack's per-channel limit allows.

    python -m bench.slack_burst [--requests 300] [--rate 10] [--burst 5] [--threshold 20] [--no-pace]

N flagged orders arrive as signed webhooks at once; one policy routes them all to one channel. The sandbox
Slack limits chat.postMessage per channel like the real one (a token bucket: --burst at once, then --rate a
second; Slack's is about 1/s, scaled here so the run stays short, and every other method's tier scaled by
the same factor), answering 429 + Retry-After beyond it. We time until every request is in the channel in
its final form (its own message, and the flood summary drawn a last time) and compare with the minimum the
limit allows for the posts that were needed, (posts − burst) / rate. Messages lost and doubled are counted
from the sandbox's own records. Prints ONE JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from sqlmodel import select

from bench.common import database, emit, log, machine
from bot.cli.devstack import CHANNEL, SHOP, DevStack
from sandbox.slack.ratelimit import SLACK_LIMITS, RateLimiter, scaled
from storage import floods
from storage.models import ApprovalRequest

STAFF = dict(line_items=[{"title": "Mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}],
             customer={"email": "s@x.example", "first_name": "Sam", "tags": ["staff"]})  # staff-orders → C0APPROVALS
SUMMARY_EVENT = "holdfast_job"  # the summary is posted tagged with its job, request messages with their request


def _request_of(message) -> int | None:
    return ((message.metadata or {}).get("event_payload") or {}).get("request_id")


async def _state(stack: DevStack) -> tuple[list[int], bool]:
    async with stack.rt.sessions() as session:
        ids = list((await session.exec(select(ApprovalRequest.id))).all())
        row = await floods.get(session, channel=CHANNEL)
    return ids, row is not None and row.active


async def run(args: argparse.Namespace) -> dict:
    factor = args.rate / SLACK_LIMITS["chat.postMessage"][0]  # type: ignore[index]
    async with database(args.db) as url:
        stack = DevStack(database_url=url, flood_threshold=args.threshold, flood_refresh_s=5.0 / factor,
                         # One token under Slack's burst: room for the jitter of loopback HTTP.
                         slack_post_rate=0.0 if args.no_pace else args.rate,
                         slack_post_burst=max(1, args.burst - 1), worker_concurrency=args.concurrency)
        stack.slack.limiter = RateLimiter({**scaled(SLACK_LIMITS, factor), "chat.postMessage": (args.rate, float(args.burst))})
        stack.shopify.bucket_size, stack.shopify.restore_rate = 1e9, 1e9  # measure Slack, not Shopify's bucket
        async with stack:
            created = [stack.shopify.create_order(SHOP, **STAFF) for _ in range(args.requests)]
            started_wall, started = time.time(), time.monotonic()
            await asyncio.gather(*(stack.shopify.deliver_webhook(SHOP, "orders/create", o.webhook_body())
                                   for o in created))
            deadline = started + args.timeout
            while True:
                ids, flooding = await _state(stack)
                posted = Counter(_request_of(m) for m in stack.slack.messages.get(CHANNEL, []) if not m.thread_ts)
                dead = await stack.jobs(status="dead")
                if (len(ids) == args.requests and all(posted[i] for i in ids) and not flooding) or dead:
                    break
                if time.monotonic() > deadline:
                    log(f"  gave up after {args.timeout}s")
                    break
                log(f"  {len(ids)} requests, {sum(1 for i in ids if posted[i])} posted after "
                    f"{time.monotonic() - started:.0f}s")
                await asyncio.sleep(1.0)
            for job in dead:
                log(f"  dead job {job.id} {job.kind} after {job.attempts} attempts: {job.last_error}")
            await stack.settle(timeout=30)
            top = [m for m in stack.slack.messages.get(CHANNEL, []) if not m.thread_ts]
            summaries = [m for m in top if (m.metadata or {}).get("event_type") == SUMMARY_EVENT]
            posted = Counter(_request_of(m) for m in top)
            ids, _ = await _state(stack)
            # The channel is complete when its last post or redraw landed (Slack's own timestamps).
            last = max(max(float(m.ts), float(m.edited_ts or 0)) for m in top)
            seconds = last - started_wall
            calls = stack.slack.calls
            posts = [c for c in calls if c["method"] == "chat.postMessage"]
            needed = sum(1 for c in posts if c["status"] == 200)
            minimum = max(0.0, (needed - args.burst) / args.rate)
            first = min(float(m.ts) for m in top) - started_wall if top else None
            # The pace once order processing no longer competes for the worker: the later half of the posts.
            times = sorted(float(m.ts) for m in stack.slack.messages.get(CHANNEL, []))
            late = times[len(times) // 2:]
            pace = (len(late) - 1) / (late[-1] - late[0]) if len(late) > 1 and late[-1] > late[0] else None
            return {
                "bench": "slack_burst", "requests": args.requests, "rate": args.rate, "burst": args.burst,
                "paced": not args.no_pace, "flood_threshold": args.threshold,
                "seconds": round(seconds, 2), "minimum_s": round(minimum, 2),
                "ratio": round(seconds / minimum, 3) if minimum else None,
                "first_post_s": round(first, 2) if first is not None else None,
                "later_half_posts_per_s": round(pace, 2) if pace else None,
                "post_calls": needed, "post_attempts": len(posts),
                "http_429": sum(1 for c in calls if c.get("limited")),
                "http_429_post": sum(1 for c in posts if c.get("limited")),
                "messages_lost": sum(1 for i in ids if not posted[i]),
                "doubled": sum(1 for i in ids if posted[i] > 1),
                "summary_posts": len(summaries), "summary_updates": sum(len(m.history) for m in summaries),
                "summary_position": next((i for i, m in enumerate(top) if any(m is s for s in summaries)), None),
                "summary_final": all("Backlog posted" in stack.slack.render(m) for m in summaries),
                "chat_update_calls": sum(1 for c in calls if c["method"] == "chat.update" and c["status"] == 200),
                "dead_jobs": len(await stack.jobs(status="dead")), **machine(),
            }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--rate", type=float, default=10.0, help="chat.postMessage per second per channel (Slack: ~1)")
    p.add_argument("--burst", type=int, default=5, help="posts a channel takes at once")
    p.add_argument("--threshold", type=int, default=20, help="HOLDFAST_FLOOD_THRESHOLD")
    p.add_argument("--no-pace", action="store_true", help="holdfast does not pace; it only obeys 429s")
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--concurrency", type=int, default=8, help="HOLDFAST_WORKER_CONCURRENCY")
    p.add_argument("--timeout", type=float, default=300.0)
    emit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()
