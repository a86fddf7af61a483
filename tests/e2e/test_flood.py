"""A channel flooded with requests, against the sandbox Slack limiting chat.postMessage per channel.

One summary goes first, is redrawn in place while the backlog drains and decisions come in, and ends in its
final form; every request is posted exactly once and stays decidable from the queue meanwhile; Slack's 429s
lose nothing, double nothing and spend no attempts.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.blocks.ids import ActionId, BlockId
from bot.cli.devstack import CHANNEL, DevStack
from storage import floods
from tests.e2e.approvals_helpers import BIG, approvals_stack, until
from tests.e2e.conftest import STAFF

SUMMARY_EVENT = "holdfast_job"  # what the summary is tagged with (request messages carry their request id)


def top_level(stack: DevStack) -> list:
    return [m for m in stack.slack.messages.get(CHANNEL, []) if not m.thread_ts]


def summaries(stack: DevStack) -> list:
    return [m for m in top_level(stack) if (m.metadata or {}).get("event_type") == SUMMARY_EVENT]


def per_request(stack: DevStack) -> Counter:
    return Counter(((m.metadata or {}).get("event_payload") or {}).get("request_id") for m in top_level(stack)
                   if (m.metadata or {}).get("event_type") == "holdfast_request")


async def burst(stack: DevStack, *specs: dict) -> list:
    """Create the orders, then deliver all their webhooks at once."""
    orders = [stack.shopify.create_order("demo-store.myshopify.com", **spec) for spec in specs]
    await asyncio.gather(*(stack.shopify.deliver_webhook("demo-store.myshopify.com", "orders/create",
                                                         o.webhook_body()) for o in orders))
    return orders


async def test_a_flood_gets_one_summary_first_redrawn_in_place_and_final_once_all_is_posted(database_url):
    # holdfast paces at the channel's rate; Slack allows one more than holdfast bursts.
    async with approvals_stack(database_url, flood_threshold=5, flood_refresh_s=0.2, slack_post_rate=3.0,
                               slack_post_burst=1) as stack:
        stack.slack.limiter.set("chat.postMessage", (3.0, 2.0))
        orders = await burst(stack, *[STAFF] * 10, *[BIG] * 4)
        [summary] = await until(lambda: summaries(stack), what="the flood summary")
        assert "not posted here yet" in stack.slack.render(summary)

        # Decide from the queue, reached from the summary's button, the newest request: not posted yet.
        # (Webhooks are answered before their requests are made: wait for all of them to be in the queue.)
        for _ in range(500):
            if all([await stack.request_for(o) for o in orders]):
                break
            await asyncio.sleep(0.02)
        status, _ = await stack.sim.click(CHANNEL, summary.ts, ActionId.MORE, "U0BEN")
        assert status == 200
        page = await until(lambda: [e for e in stack.slack.ephemerals if e["user"] == "U0BEN"], what="the queue")
        rendered = stack.slack.render(page[-1]["blocks"])
        assert "Waiting for a decision" in rendered and "(continued)" not in rendered
        newest = await stack.request_for(orders[-1])
        status, _ = await stack.sim.click_ephemeral(page[-1], ActionId.APPROVE, "U0BEN",
                                                    block_id=f"{BlockId.QUEUE_ITEM}-{newest.id}")
        assert status == 200
        await stack.settle(timeout=60)

        # Every request posted exactly once; the summary went before most of them and was redrawn in place.
        reqs = [await stack.request_for(o) for o in orders]
        assert per_request(stack) == Counter({r.id: 1 for r in reqs})
        assert len(summaries(stack)) == 1 and [m.ts for m in summaries(stack)] == [summary.ts]
        assert top_level(stack).index(summary) <= len(top_level(stack)) - 5
        assert summary.history, "redrawn in place, not posted again"
        final = stack.slack.render(summary)
        assert "Backlog posted" in final and "13 orders were waiting" in final and "1 decided since" in final
        assert "Staff order: 10" in final and "High-value order: 3" in final
        decided = await stack.request_for(orders[-1])
        assert decided.status == "approved" and decided.decided_by == "U0BEN"
        assert "Approved" in stack.slack.render(stack.slack.message(CHANNEL, decided.message_ts))
        async with stack.rt.sessions() as session:
            row = await floods.get(session, channel=CHANNEL)
        assert not row.active and row.ts == summary.ts
        kinds = [e.kind for e in await stack.audit_trail()]
        assert kinds.count("flood.started") == 1 and kinds.count("flood.ended") == 1
        assert await stack.jobs(status="dead") == []

        # Once it is over, the summary stays as it was; a few more requests are posted as usual.
        drawn = len(summary.history)
        more = await burst(stack, STAFF, STAFF)
        await stack.settle(timeout=30)
        assert [per_request(stack)[(await stack.request_for(o)).id] for o in more] == [1, 1]
        assert len(summaries(stack)) == 1 and len(summary.history) == drawn


async def test_429s_from_the_per_channel_limit_lose_nothing_double_nothing_and_spend_no_attempts(database_url):
    # holdfast does not pace here (rate 0): every post finds the limit by trial, and two attempts would
    # not survive the 429s if a 429 counted as one.
    async with approvals_stack(database_url, flood_threshold=5, flood_refresh_s=0.2, job_max_attempts=2,
                               slack_post_rate=0.0) as stack:
        stack.slack.limiter.set("chat.postMessage", (5.0, 2.0))
        stack.slack.limiter.set("chat.update", (5.0, 2.0))
        orders = await burst(stack, *[STAFF] * 12)
        await stack.settle(timeout=60)
        limited = [c for c in stack.slack.calls if c.get("limited")]
        assert sum(1 for c in limited if c["method"] == "chat.postMessage") >= 5
        reqs = [await stack.request_for(o) for o in orders]
        assert per_request(stack) == Counter({r.id: 1 for r in reqs})
        assert len(summaries(stack)) <= 1
        assert await stack.jobs(status="dead") == []
        assert all(j.status == "done" and j.attempts <= 1 for j in await stack.jobs())
