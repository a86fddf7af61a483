"""Webhook receipts: the unique delivery/event ids that make a redelivery a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import WebhookReceipt


async def record(session: AsyncSession, *, webhook_id: str, event_id: str | None, topic: str, shop: str,
                 now: datetime) -> bool:
    """Insert a receipt; False when this delivery (or this event for this topic) was seen before."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(WebhookReceipt)
        .values(webhook_id=webhook_id, event_id=event_id, topic=topic, shop_domain=shop, received_at=now)
        .on_conflict_do_nothing()
        .returning(WebhookReceipt.id)
    )
    return (await session.exec(stmt)).first() is not None
