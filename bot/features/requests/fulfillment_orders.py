"""A fulfillment order opened late (routed, or a scheduled one came due): wake the hold that waits for it."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.effects import JobKind, shopify_key
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from bot.shopify import documents as gql
from storage import jobs, requests
from storage.models import Job


async def fulfillment_orders_ready(rt: Runtime, job: Job) -> Apply | None:
    """fulfillment_orders/order_routing_complete or scheduled_fulfillment_order_ready: the hold job of the order
    it belongs to, if one waits, runs now instead of at its next look."""
    shop, fo_gid = job.payload["shop"], job.payload["fulfillment_order_gid"]
    async with rt.sessions() as session:
        waiting = await requests.waiting_holds(session, shop=shop)
    if not waiting:
        return None  # Shopify routes every order: most of these concern no hold, and cost no API call
    client = await rt.shopify.get(shop)
    node = (await client.execute(gql.FULFILLMENT_ORDER_ORDER, {"id": fo_gid},
                                 name="FulfillmentOrderOrder")).root("fulfillmentOrder")
    order_gid = (node or {}).get("orderId")
    if not any(r.order_gid == order_gid for r in waiting):
        return None

    async def apply(session: AsyncSession) -> None:
        await jobs.wake(session, key=shopify_key(shop, order_gid), kind=JobKind.HOLD, now=rt.now())

    return apply
