"""Draft order mutations: draftOrderCreate, draftOrderComplete, draftOrderDelete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import GraphQLResolveInfo

from . import queries
from .mutations import address_from_input
from .records import DraftOrder, ProductVariant
from .state import LineItem, merge_tags, money

if TYPE_CHECKING:
    from .context import Ctx


def _fail(key: str, field: list[str], message: str) -> dict[str, Any]:
    return {key: None, "userErrors": [{"field": field, "message": message}]}


def _line(ctx: Ctx, n: int, item: dict[str, Any], currency: str) -> LineItem | dict[str, Any]:
    """A draft line item from its input, or a userErrors payload."""
    where = ["lineItems", str(n)]
    if item["quantity"] < 1:
        return _fail("draftOrder", [*where, "quantity"], "Quantity must be greater than or equal to 1")
    legacy, gid = ctx.sb.ids.next("DraftOrderLineItem")
    if item.get("variantId"):
        variant: ProductVariant | None = ctx.node(item["variantId"], "ProductVariant")
        if variant is None:
            return _fail("draftOrder", [*where, "variantId"], f"Product with ID {item['variantId']} is no longer available.")
        title = None if variant.title == "Default Title" else variant.title
        return LineItem(gid, legacy, variant.product.title, item["quantity"], variant.price, variant.sku,
                        variant.product.vendor or None, variant, title, currency=currency)
    if not item.get("title"):
        return _fail("draftOrder", [*where, "title"], "Title can't be blank")
    price = (item.get("originalUnitPriceWithCurrency") or {}).get("amount", "0")
    return LineItem(gid, legacy, item["title"], item["quantity"], money(price), item.get("sku"),
                    requires_shipping=item.get("requiresShipping", True) is not False,
                    properties=[(a["key"], a["value"]) for a in item.get("customAttributes") or []], currency=currency)


def draft_order_create(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    """draftOrderCreate: custom or variant line items, tags, note, attributes, order discount."""
    ctx: Ctx = info.context
    currency = input.get("presentmentCurrencyCode") or ctx.shop.currency
    if not input.get("lineItems"):
        return _fail("draftOrder", ["lineItems"], "Add at least 1 product")
    lines = []
    for n, item in enumerate(input["lineItems"]):
        line = _line(ctx, n, item, currency)
        if isinstance(line, dict):
            return line
        lines.append(line)
    discount = input.get("appliedDiscount")
    legacy, gid = ctx.sb.ids.next("DraftOrder")
    draft = DraftOrder(
        gid, legacy, ctx.shop.domain, ctx.shop.next_draft_number, ctx.now, ctx.now, lines, currency,
        email=input.get("email"), phone=input.get("phone"), note=input.get("note"), po_number=input.get("poNumber"),
        source_name=input.get("sourceName"), tags=merge_tags([], input.get("tags") or []),
        custom_attributes=[(a["key"], a["value"]) for a in input.get("customAttributes") or []],
        discount_codes=list(input.get("discountCodes") or []),
        applied_discount=discount and {
            "value": float(discount["value"]), "valueType": discount["valueType"],
            "title": discount.get("title"), "description": discount.get("description") or "",
        },
        shipping_address=address_from_input(ctx, input.get("shippingAddress")),
        customer=ctx.sb.find_customer(ctx.shop.domain, input.get("email")),
    )
    terms = (input.get("paymentTerms") or {}).get("paymentTermsTemplateId")
    if terms and terms not in {t["id"] for t in queries.PAYMENT_TERMS_TEMPLATES}:
        return _fail("draftOrder", ["paymentTerms"], "Payment terms template does not exist")
    draft.payment_terms = terms
    ctx.shop.next_draft_number += 1
    ctx.sb.draft_orders[gid] = draft
    ctx.sb.register(draft, ctx.shop.domain)
    return {"draftOrder": draft, "userErrors": []}


def draft_order_complete(_: Any, info: GraphQLResolveInfo, id: str, paymentGatewayId: str | None = None,
                         sourceName: str | None = None) -> dict[str, Any]:
    """draftOrderComplete: turn the draft into a paid order (with one fulfillment order)."""
    ctx: Ctx = info.context
    draft: DraftOrder | None = ctx.node(id, "DraftOrder")
    if draft is None:
        return _fail("draftOrder", ["id"], "Draft order does not exist")
    if draft.status == "COMPLETED":
        return _fail("draftOrder", ["id"], "This order has already been completed")
    if sourceName:
        draft.source_name = sourceName
    draft.order = ctx.sb.order_from_draft(draft, ctx.now)
    if draft.payment_terms:  # with payment terms the order is not marked paid: payment is due later
        draft.order.financial_status = "PENDING"
    draft.status, draft.completed_at, draft.updated_at = "COMPLETED", ctx.now, ctx.now
    return {"draftOrder": draft, "userErrors": []}


def draft_order_delete(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    """draftOrderDelete: open drafts only."""
    ctx: Ctx = info.context
    draft: DraftOrder | None = ctx.node(input["id"], "DraftOrder")
    if draft is None:
        return _fail("deletedId", ["id"], "Draft order does not exist")
    if draft.status == "COMPLETED":
        return _fail("deletedId", ["id"], "Cannot delete a completed draft order")
    ctx.sb.draft_orders.pop(draft.gid)
    ctx.sb.unregister(draft.gid)
    return {"deletedId": draft.gid, "userErrors": []}


RESOLVERS: dict[str, Any] = {
    "draftOrderCreate": draft_order_create,
    "draftOrderComplete": draft_order_complete,
    "draftOrderDelete": draft_order_delete,
}
