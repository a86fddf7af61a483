"""Mutation resolvers, with Shopify's userErrors shapes and codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLResolveInfo

from .customer_data import SUBSCRIBE_REFUSED, topic_has_customer_data
from .records import Job, WebhookSubscription
from .state import (
    HOLDABLE_STATUSES,
    MAX_HOLDS_PER_APP,
    Address,
    FulfillmentOrder,
    FulfillmentOrderLineItem,
    Hold,
    Order,
    merge_tags,
    remove_tags,
)

if TYPE_CHECKING:
    from .context import Ctx

MAX_HANDLE_LENGTH = 64
# Messages as the FulfillmentOrderHoldUserErrorCode reference words them.
DUPLICATE_HANDLE = ("The handle provided for the fulfillment hold is already in use by this app "
                    "for another hold on this fulfillment order.")
HOLD_LIMIT = ("The maximum number of fulfillment holds for this fulfillment order has been reached "
              "for this app. An app can only have up to 10 holds on a single fulfillment order at any one time.")
TAGGABLE = ("Order", "Customer", "DraftOrder", "Product")


def _err(field: list[str] | None, message: str, code: str | None = None, *, with_code: bool = True) -> dict[str, Any]:
    error: dict[str, Any] = {"field": field, "message": message}
    if with_code:
        error["code"] = code
    return error


def _hold_error(field: list[str], message: str, code: str | None) -> dict[str, Any]:
    return {"fulfillmentHold": None, "fulfillmentOrder": None, "remainingFulfillmentOrder": None,
            "userErrors": [_err(field, message, code)]}


def _split(ctx: Ctx, fo: FulfillmentOrder, wanted: list[dict[str, Any]]) -> FulfillmentOrder | dict[str, Any] | None:
    """Keep `wanted` quantities on `fo`, move the rest to a new FO; a payload on error."""
    by_id = {li.gid: li for li in fo.line_items}
    keep: dict[str, int] = {}
    for n, item in enumerate(wanted):
        where = ["fulfillmentHold", "fulfillmentOrderLineItems", str(n), "quantity"]
        line = by_id.get(item["id"])
        if item["quantity"] <= 0:
            return _hold_error(where, "must be greater than 0", "GREATER_THAN_ZERO")
        if line is None or item["quantity"] > line.remaining_quantity:
            return _hold_error(where, "The line item quantity is invalid.", "INVALID_LINE_ITEM_QUANTITY")
        keep[line.gid] = keep.get(line.gid, 0) + item["quantity"]
    rest = [(li, li.remaining_quantity - keep.get(li.gid, 0)) for li in fo.line_items]
    if all(q == 0 for _, q in rest):
        return None
    _, new_gid = ctx.sb.ids.next("FulfillmentOrder")
    other = FulfillmentOrder(new_gid, fo.order, ctx.now, ctx.now, request_status=fo.request_status)
    for line, qty in rest:
        if qty:
            line_gid = ctx.sb.ids.next("FulfillmentOrderLineItem")[1]
            other.line_items.append(FulfillmentOrderLineItem(line_gid, line.line_item, qty, qty))
    fo.line_items = [li for li in fo.line_items if keep.get(li.gid)]
    for line in fo.line_items:
        line.total_quantity = line.remaining_quantity = keep[line.gid]
    ctx.sb.register_fulfillment_order(other)
    return other


def fulfillment_order_hold(_: Any, info: GraphQLResolveInfo, id: str, fulfillmentHold: dict[str, Any]) -> dict[str, Any]:
    """fulfillmentOrderHold: one hold per (app, FO, handle); splits when line items are given."""
    ctx: Ctx = info.context
    fo: FulfillmentOrder | None = ctx.node(id, "FulfillmentOrder")
    if fo is None:
        return _hold_error(["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")
    if fo.status not in HOLDABLE_STATUSES:
        return _hold_error(["id"], f"Fulfillment order cannot be placed on hold while its status is {fo.status.lower()}.", None)
    handle = fulfillmentHold.get("handle") or ""
    if len(handle) > MAX_HANDLE_LENGTH:
        return _hold_error(["fulfillmentHold", "handle"], "Handle is too long (maximum is 64 characters)", None)
    mine = [h for h in fo.holds if h.app == ctx.app]
    if any(h.handle == handle for h in mine):
        return _hold_error(["fulfillmentHold", "handle"], DUPLICATE_HANDLE, "DUPLICATE_FULFILLMENT_HOLD_HANDLE")
    if len(mine) >= MAX_HOLDS_PER_APP:
        return _hold_error(["id"], HOLD_LIMIT, "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED")
    remaining = None
    wanted = fulfillmentHold.get("fulfillmentOrderLineItems") or []
    if wanted:
        if fo.status == "ON_HOLD":
            return _hold_error(["fulfillmentHold", "fulfillmentOrderLineItems"],
                               "The fulfillment order is not in a splittable state.", "FULFILLMENT_ORDER_NOT_SPLITTABLE")
        remaining = _split(ctx, fo, wanted)
        if isinstance(remaining, dict):
            return remaining
    hold = Hold(ctx.sb.ids.next("FulfillmentHold")[1], handle, ctx.app, fulfillmentHold["reason"],
                fulfillmentHold.get("reasonNotes"), fulfillmentHold.get("externalId"))
    ctx.sb.add_hold(fo, hold, ctx.now)
    ctx.sb.record_mutation("fulfillmentOrderHold", fo.gid)
    return {"fulfillmentHold": hold, "fulfillmentOrder": fo, "remainingFulfillmentOrder": remaining, "userErrors": []}


def fulfillment_order_release_hold(_: Any, info: GraphQLResolveInfo, id: str, holdIds: list[str] | None = None,
                                   externalId: str | None = None) -> dict[str, Any]:
    """fulfillmentOrderReleaseHold: the listed holds only, or every hold when holdIds is omitted."""
    ctx: Ctx = info.context
    fo: FulfillmentOrder | None = ctx.node(id, "FulfillmentOrder")
    if fo is None:
        error = _err(["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")
        return {"fulfillmentOrder": None, "userErrors": [error]}
    held = {h.gid for h in fo.holds}
    if holdIds is not None:
        unknown = [h for h in holdIds if h not in held]
        if unknown:
            return {"fulfillmentOrder": None, "userErrors": [
                _err(["holdIds"], f"Fulfillment hold {unknown[0]} does not belong to this fulfillment order.", None)]}
    if not fo.holds:
        return {"fulfillmentOrder": None, "userErrors": [_err(["id"], "Fulfillment order is not on hold.", None)]}
    ctx.sb.release_holds(fo, set(holdIds) if holdIds is not None else held, ctx.now)
    ctx.sb.record_mutation("fulfillmentOrderReleaseHold", fo.gid)
    return {"fulfillmentOrder": fo, "userErrors": []}


def _tags(change: Callable[[list[str], list[str]], list[str]]) -> Any:
    """tagsAdd / tagsRemove on any taggable node."""
    def resolve(_: Any, info: GraphQLResolveInfo, id: str, tags: list[str]) -> dict[str, Any]:
        ctx: Ctx = info.context
        node = ctx.node(id)
        if node is None or type(node).__name__ not in TAGGABLE:
            kind = id.split("/")[3] if id.count("/") >= 4 else "Resource"
            return {"node": None, "userErrors": [_err(["id"], f"{kind} does not exist", with_code=False)]}
        node.tags = change(node.tags, tags)
        if hasattr(node, "updated_at"):
            node.updated_at = ctx.now
        return {"node": node, "userErrors": []}

    return resolve


def address_from_input(ctx: Ctx, data: dict[str, Any] | None) -> Address | None:
    """A MailingAddress from a MailingAddressInput."""
    if data is None:
        return None
    fields = {"address1", "address2", "city", "company", "zip", "phone"}
    address = Address(ctx.sb.ids.next("MailingAddress")[1], **{k: v for k, v in data.items() if k in fields})
    address.first_name, address.last_name = data.get("firstName"), data.get("lastName")
    address.province_code, address.country_code = data.get("provinceCode"), data.get("countryCode")
    address.country, address.province = address.country_code, address.province_code
    return address


def order_update(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    """orderUpdate: the given fields overwrite the order's (tags and customAttributes included)."""
    ctx: Ctx = info.context
    order: Order | None = ctx.node(input["id"], "Order")
    if order is None:
        return {"order": None, "userErrors": [_err(["id"], "Order does not exist", with_code=False)]}
    for key, attr in (("note", "note"), ("email", "email"), ("poNumber", "po_number")):
        if key in input:
            setattr(order, attr, input[key])
    if input.get("tags") is not None:
        order.tags = merge_tags([], input["tags"])
    if input.get("customAttributes") is not None:
        order.note_attributes = [(a["key"], a["value"]) for a in input["customAttributes"]]
    if "shippingAddress" in input:
        order.shipping_address = address_from_input(ctx, input["shippingAddress"])
    for m in input.get("metafields") or []:
        # Metafields are set one by one (upserted by namespace + key); the others on the order stay.
        if not m.get("key") or m.get("value") is None or not m.get("type"):
            return {"order": None, "userErrors": [_err(["metafields"], "key, type and value are required",
                                                       with_code=False)]}
        ns = m.get("namespace") or "$app"
        current = order.metafields.get((ns, m["key"]))
        order.metafields[(ns, m["key"])] = {"id": current["id"] if current else ctx.sb.ids.next("Metafield")[1],
                                            "namespace": ns, "key": m["key"], "type": m["type"], "value": m["value"]}
    order.updated_at = ctx.now
    return {"order": order, "userErrors": []}


def order_cancel(_: Any, info: GraphQLResolveInfo, orderId: str, reason: str, restock: bool, refund: bool | None = None,
                 refundMethod: dict[str, Any] | None = None, notifyCustomer: bool = False,
                 staffNote: str | None = None) -> dict[str, Any]:
    """orderCancel: answers with a Job; the order is cancelled when the job is seen done."""
    ctx: Ctx = info.context
    # `refundMethod` replaced the deprecated `refund` in 2025-07
    # (https://shopify.dev/changelog/ordercancel-mutation-now-supports-refunds-to-store-credit).
    refund = bool((refundMethod or {}).get("originalPaymentMethodsRefund")) if refund is None else refund
    order: Order | None = ctx.node(orderId, "Order")
    if order is None:
        return {"job": None, "orderCancelUserErrors": [_err(["orderId"], "Order not found", "NOT_FOUND")]}
    problem = "Order has already been cancelled" if order.cancelled_at else None
    if any(j.target == order.gid and not j.done for j in ctx.sb.jobs.values()):
        problem = "Order is already being cancelled"
    elif not problem and any(fo.status == "CLOSED" for fo in order.fulfillment_orders):
        # Shopify refuses to cancel an order with fulfilled items until the fulfillments are cancelled.
        problem = "Cannot cancel an order that has fulfilled line items"
    if problem:
        return {"job": None, "orderCancelUserErrors": [_err(["orderId"], problem, "INVALID")]}
    sb = ctx.sb
    job = Job(sb.ids.next("Job")[1], ctx.shop.domain, sb.job_reads_until_done,
              lambda: sb.cancel_order(order, reason, refund, sb.now()), target=order.gid)
    sb.jobs[job.gid] = job
    if job.reads_until_done <= 0:
        job.done = True
        job.on_done()
    return {"job": job, "orderCancelUserErrors": []}


def webhook_subscription_create(_: Any, info: GraphQLResolveInfo, topic: str,
                                webhookSubscription: dict[str, Any]) -> dict[str, Any]:
    """webhookSubscriptionCreate for HTTP endpoints."""
    ctx: Ctx = info.context
    # `uri` replaced the deprecated `callbackUrl` (https://shopify.dev/changelog/consolidate-webhook-graphql-surfaces).
    key = "uri" if webhookSubscription.get("uri") is not None else "callbackUrl"
    url = webhookSubscription.get(key)
    where = ["webhookSubscription", key]
    problem = None
    if not url:
        problem = "Address can't be blank"
    elif not str(url).startswith(("https://", "http://")):
        problem = "Address is invalid"
    elif any(s.shop == ctx.shop.domain and s.app == ctx.app and s.topic == topic and s.callback_url == url
             for s in ctx.sb.webhook_subscriptions.values()):
        problem = "Address for this topic has already been taken"
    if problem is None and topic_has_customer_data(topic) and not ctx.sb.customer_data_for(ctx.app).level1:
        # Without protected customer data access, topics carrying customer data are refused, on field
        # ["webhookSubscription"] (customer_data.py has the sources).
        problem, where = SUBSCRIBE_REFUSED, ["webhookSubscription"]
    if problem:
        return {"webhookSubscription": None, "userErrors": [_err(where, problem, with_code=False)]}
    legacy, gid = ctx.sb.ids.next("WebhookSubscription")
    sub = WebhookSubscription(gid, legacy, ctx.shop.domain, ctx.app, topic, str(url), ctx.now,
                              webhookSubscription.get("format") or "JSON", webhookSubscription.get("filter"),
                              list(webhookSubscription.get("includeFields") or []))
    ctx.sb.webhook_subscriptions[gid] = sub
    ctx.sb.register(sub, ctx.shop.domain)
    return {"webhookSubscription": sub, "userErrors": []}


RESOLVERS: dict[str, Any] = {
    "fulfillmentOrderHold": fulfillment_order_hold,
    "fulfillmentOrderReleaseHold": fulfillment_order_release_hold,
    "tagsAdd": _tags(merge_tags),
    "tagsRemove": _tags(remove_tags),
    "orderUpdate": order_update,
    "orderCancel": order_cancel,
    "webhookSubscriptionCreate": webhook_subscription_create,
}
