"""/metrics in Prometheus' format (prometheus_client): jobs by kind and outcome with their latency, the queue by
kind, Slack's ack latency and 429s, Shopify's THROTTLED replies and query cost, webhooks stored and deduplicated."""

from __future__ import annotations

import re

import aiohttp

from bot.cli.devstack import SHOP, DevStack
from tests.e2e.conftest import STAFF


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels…}` (labels in any order), 0 when absent."""
    for line in text.splitlines():
        m = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if m and all(f'{k}="{v}"' in (m[1] or "") for k, v in labels.items()):
            return float(m[2])
    return 0.0


async def scrape(stack: DevStack) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.bot_url}/metrics") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        return await resp.text()


async def test_metrics_count_what_happened(database_url):
    async with DevStack(database_url=database_url) as stack:
        before = await scrape(stack)
        order = await stack.place_order(**STAFF)
        await stack.shopify.deliver_webhook(SHOP, "orders/create", order.webhook_body(),
                                            webhook_id=stack.shopify.webhook_deliveries[-1].webhook_id)  # a retry
        await stack.settle()
        await stack.click(await stack.request_for(order), "request-approve", "U0ANA")
        await stack.settle()
        after = await scrape(stack)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("holdfast_webhooks_total", topic="orders/create", outcome="stored") == 1
    assert grew("holdfast_webhooks_total", topic="orders/create", outcome="duplicate") == 1
    assert grew("holdfast_jobs_finished_total", kind="shopify.hold", outcome="done") == 1
    assert grew("holdfast_jobs_finished_total", kind="shopify.release", outcome="done") == 1
    assert grew("holdfast_job_seconds_count", kind="slack.post_request") == 1
    assert grew("holdfast_slack_ack_seconds_count") >= 1
    assert grew("holdfast_shopify_query_cost_total", operation="FulfillmentOrderHold") > 0
    assert value(after, "holdfast_jobs", status="dead") == 0 and "holdfast_job_queue" in after
