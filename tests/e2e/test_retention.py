"""Bounded tables: the pruning pass deletes finished jobs, webhook receipts and periodic runs past their retention,
in batches, and keeps audit events, requests, dead and waiting jobs, and receipts young enough to dedupe a
redelivery (https://shopify.dev/docs/apps/build/webhooks/troubleshooting-webhooks: retries go on for 48 hours)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import select

from bot.cli.devstack import DevStack
from bot.jobs import scheduler
from storage.db import transaction
from storage.models import ApprovalRequest, AuditEvent, Job, PeriodicRun, WebhookReceipt
from tests.e2e.conftest import STAFF


async def count(stack: DevStack, model, *where) -> int:
    async with stack.rt.sessions() as session:
        return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


async def test_the_pruning_pass_keeps_the_window_and_the_record(database_url, caplog):
    async with DevStack(database_url=database_url, prune_batch=3) as stack:
        orders = [await stack.place_order(**STAFF) for _ in range(3)]
        await stack.settle()
        old = stack.rt.now() - timedelta(days=8)
        async with transaction(stack.rt.sessions) as session:  # the first two orders' rows are eight days old
            await session.exec(update(Job).values(updated_at=old))
            await session.exec(update(WebhookReceipt).where(WebhookReceipt.id <= 2).values(received_at=old))
            dead = Job(kind="slack.dm", key="k", status="dead", run_at=old, created_at=old, updated_at=old)
            waiting = Job(kind="timer.fire", key="k2", status="pending", run_at=stack.rt.now() + timedelta(days=30),
                          created_at=old, updated_at=old)  # a timer due in a month: waiting, not finished
            session.add_all([dead, waiting, PeriodicRun(name="reconcile", period_start=old, owner="x",
                                                        started_at=old, finished_at=old)])
        finished = await count(stack, Job, Job.status == "done")
        requests, events = await count(stack, ApprovalRequest), await count(stack, AuditEvent)
        assert finished > 3 * 3  # more than three batches' worth

        caplog.set_level(logging.INFO, logger="bot.features.upkeep.retention")
        spec = next(s for s in scheduler.periodic_jobs(stack.rt.settings) if s.name == "prune")
        assert await scheduler.run_period(stack.rt, spec)
        await stack.settle()

        assert await count(stack, Job, Job.status == "done") == 1  # only the pruning job itself, finished now
        assert await count(stack, Job, Job.status == "dead") == 1 and await count(stack, Job, Job.status == "pending") == 1
        assert await count(stack, WebhookReceipt) == 1  # the third order's receipt is young: it still dedupes
        assert await count(stack, PeriodicRun, PeriodicRun.period_start == old) == 0
        assert (await count(stack, ApprovalRequest), await count(stack, AuditEvent)) == (requests, events)
        assert any(f"pruned {finished} finished job(s), 2 webhook receipt(s), 1 periodic run(s)" in r.getMessage()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]
        # A redelivery of the young order is still a duplicate; the pruned ones' would be new, but Shopify
        # stopped retrying those long ago.
        assert await stack.shopify.deliveries.deliver("demo-store.myshopify.com", "orders/create",
                                                      orders[2].webhook_body(),
                                                      webhook_id=stack.shopify.webhook_deliveries[2].webhook_id) == 200
        await stack.settle()
        assert await count(stack, WebhookReceipt) == 1
