"""Group commit for webhooks: deliveries arriving together share one transaction.

Each delivery is still answered only after the transaction holding its receipt and job has committed,
so nothing acknowledged is ever lost; but the database pays one commit per batch instead of one per
webhook, which is what bounds ingest under a burst (a flash sale sends hundreds per second).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.approvals.machine import JobKind
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import Job, WebhookReceipt

ORDER_TOPICS = frozenset({"orders/create", "orders/updated"})


# Core statements built once and run with a list of parameter sets: their compiled form (and cache key) is
# reused, where a multi-row VALUES built per batch was compiled afresh every time (most of the web process's
# CPU under load).
_JOBS_INSERT = Job.__table__.insert()
_RECEIPTS_INSERT: dict[str, Any] = {}


def _receipts_insert(dialect: str) -> Any:
    if dialect not in _RECEIPTS_INSERT:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        _RECEIPTS_INSERT[dialect] = (insert(WebhookReceipt.__table__).on_conflict_do_nothing()
                                     .returning(WebhookReceipt.__table__.c.webhook_id))
    return _RECEIPTS_INSERT[dialect]


@dataclass(frozen=True)
class Delivery:
    """One verified webhook delivery."""

    topic: str
    shop: str
    webhook_id: str
    event_id: str | None
    body: dict[str, Any]


class WebhookBatcher:
    """Writes concurrent deliveries in one transaction; `accept` returns False for a duplicate."""

    def __init__(self, rt: Runtime, *, max_batch: int = 200):
        self.rt = rt
        self.max_batch = max_batch
        self._pending: list[tuple[Delivery, asyncio.Future[bool]]] = []
        self._flushing = False

    async def accept(self, delivery: Delivery) -> bool:
        """Store the delivery (and its processing job) durably; True when it was new."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        if not self._flushing:
            self._flushing = True
            asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(0)  # let deliveries already being read join this batch
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
                try:
                    fresh = await self._write([d for d, _ in batch])
                except Exception as exc:  # the whole batch failed to commit: each sender gets a 5xx and retries
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for delivery, future in batch:
                    if not future.done():
                        future.set_result(id(delivery) in fresh)
                self.rt.wake_worker()
        finally:
            self._flushing = False

    async def _write(self, batch: list[Delivery]) -> set[int]:
        # Duplicates inside one batch are settled here: the database only sees the first of each.
        seen_ids: set[str] = set()
        seen_events: set[tuple[str, str]] = set()
        first: list[Delivery] = []
        for d in batch:
            event = (d.topic, d.event_id) if d.event_id else None
            if d.webhook_id in seen_ids or (event and event in seen_events):
                continue
            seen_ids.add(d.webhook_id)
            if event:
                seen_events.add(event)
            first.append(d)
        now = self.rt.now()
        async with transaction(self.rt.sessions) as session:
            conn = await session.connection()
            receipts = [dict(webhook_id=d.webhook_id, event_id=d.event_id, topic=d.topic, shop_domain=d.shop,
                             received_at=now) for d in first]
            rows = await conn.execute(_receipts_insert(conn.dialect.name), receipts)
            stored = {row[0] for row in rows.all()}
            fresh = [d for d in first if d.webhook_id in stored]
            jobs = [dict(kind=JobKind.PROCESS_ORDER.value, key=f"order:{d.shop}:{d.body.get('id')}", status="pending",
                         payload={"shop": d.shop, "topic": d.topic, "webhook_id": d.webhook_id, "order": d.body},
                         run_at=now, attempts=0, max_attempts=self.rt.settings.job_max_attempts, created_at=now,
                         updated_at=now)
                    for d in fresh if d.topic in ORDER_TOPICS]
            if jobs:
                await conn.execute(_JOBS_INSERT, jobs)
        return {id(d) for d in fresh}
