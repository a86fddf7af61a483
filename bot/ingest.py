"""Group commit for webhooks: deliveries arriving together share one transaction.

Each delivery is still answered only after the transaction holding its receipt and job has committed,
so nothing acknowledged is ever lost; but the database pays one commit per batch instead of one per
webhook, which is what bounds ingest under a burst (a flash sale sends hundreds per second).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import JobKind, fulfillment_order_key, install_key, order_key, privacy_key
from storage import webhooks
from storage.webhooks import Receipt

ORDER_TOPICS = frozenset({"orders/create", "orders/updated"})
# A fulfillment order opened (routed, or a scheduled one came due): a hold waiting for it can be placed now.
# https://shopify.dev/docs/api/webhooks/latest (fulfillment_orders/order_routing_complete,
# fulfillment_orders/scheduled_fulfillment_order_ready); the body names the fulfillment order only.
FULFILLMENT_ORDER_TOPICS = frozenset({"fulfillment_orders/order_routing_complete",
                                      "fulfillment_orders/scheduled_fulfillment_order_ready"})
# The privacy law compliance webhooks every distributed app must answer (a 200 once the HMAC verifies, and the work
# done within 30 days): https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance (bot/features/privacy).
PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
# "Occurs whenever a shop has uninstalled the app" (https://shopify.dev/docs/api/webhooks/latest): its body is the shop.
UNINSTALL_TOPIC = "app/uninstalled"


def job_payload(d: Delivery) -> str:
    """The order job's payload as JSON text, around the delivery's own bytes (no re-encoding of the order)."""
    try:
        order = d.raw.decode("utf-8-sig")  # parse_body accepted it; JSON may also come as UTF-16/32 (rare)
    except UnicodeDecodeError:
        order = json.dumps(d.body)
    head = json.dumps({"shop": d.shop, "topic": d.topic, "webhook_id": d.webhook_id})
    return f'{head[:-1]}, "order": {order}}}'


def _receipt(d: Delivery) -> Receipt:
    """The delivery's receipt, with the job that processes it (order, fulfillment-order and privacy topics)."""
    if d.topic in ORDER_TOPICS:
        return Receipt(d.webhook_id, d.event_id, d.topic, d.shop, order_key(d.shop, d.body.get("id")), job_payload(d))
    if d.topic in FULFILLMENT_ORDER_TOPICS:
        gid = str((d.body.get("fulfillment_order") or {}).get("id"))
        payload = json.dumps({"shop": d.shop, "topic": d.topic, "fulfillment_order_gid": gid})
        return Receipt(d.webhook_id, d.event_id, d.topic, d.shop, fulfillment_order_key(d.shop, gid), payload,
                       JobKind.FULFILLMENT_ORDERS_READY.value)
    if d.topic in PRIVACY_TOPICS:  # rare: the parsed body re-encoded is fine here
        payload = json.dumps({"shop": d.shop, "topic": d.topic, "webhook_id": d.webhook_id, "body": d.body})
        return Receipt(d.webhook_id, d.event_id, d.topic, d.shop, privacy_key(d.shop), payload,
                       JobKind.PRIVACY_REQUEST.value)
    if d.topic == UNINSTALL_TOPIC:
        payload = json.dumps({"shop": d.shop, "topic": d.topic, "webhook_id": d.webhook_id,
                              "by_client_app": d.by_client_app})
        return Receipt(d.webhook_id, d.event_id, d.topic, d.shop, install_key(d.shop), payload,
                       JobKind.APP_UNINSTALLED.value)
    return Receipt(d.webhook_id, d.event_id, d.topic, d.shop)


@dataclass(frozen=True)
class Delivery:
    """One verified webhook delivery."""

    topic: str
    shop: str
    webhook_id: str
    event_id: str | None
    body: dict[str, Any]
    raw: bytes  # the verified body as received
    # app/uninstalled only: signed by the Dev Dashboard app's client secret (not a legacy admin app's API secret).
    by_client_app: bool = True


class WebhookBatcher:
    """Writes concurrent deliveries in one transaction; `accept` returns False for a duplicate."""

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], *, now: Callable[[], datetime],
                 max_attempts: Callable[[], int], on_commit: Callable[[], None], max_batch: int = 200):
        self.now = now
        self.max_attempts = max_attempts  # the order job's tries, from its JobSpec and the settings in force
        self.on_commit = on_commit  # new jobs committed: the in-process worker looks at once
        self.max_batch = max_batch
        self._pending: list[tuple[Delivery, asyncio.Future[bool]]] = []
        self._flushing = False
        self._store = webhooks.BatchStore(engine, sessions)

    async def close(self) -> None:
        """Release the database connection kept for batches."""
        await self._store.close()

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
                self.on_commit()
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
        receipts = [_receipt(d) for d in first]
        stored = await self._store.store(receipts, job_kind=JobKind.PROCESS_ORDER.value, now=self.now(),
                                         max_attempts=self.max_attempts())
        return {id(d) for d in first if d.webhook_id in stored}
