"""Building orders (with customers, products and fulfillment orders) for the sandbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .queries import PAYMENT_TERMS_TEMPLATES
from .records import DraftOrder, ProductVariant
from .state import (
    Address,
    Customer,
    FulfillmentOrder,
    FulfillmentOrderLineItem,
    LineItem,
    Order,
    Shop,
    merge_tags,
    money,
)

if TYPE_CHECKING:
    from .control import ShopifySandbox

_ADDRESS_KEYS = ("first_name", "last_name", "company", "address1", "address2", "city", "province",
                 "province_code", "country", "country_code", "zip", "phone")


def _address(sb: ShopifySandbox, spec: dict[str, Any] | Address | None) -> Address | None:
    if spec is None or isinstance(spec, Address):
        return spec
    unknown = set(spec) - set(_ADDRESS_KEYS) - {"name"}
    if unknown:
        raise ValueError(f"unknown address keys: {sorted(unknown)}")
    return Address(sb.ids.next("MailingAddress")[1], **{k: spec.get(k) for k in _ADDRESS_KEYS})


def _customer(sb: ShopifySandbox, shop: Shop, spec: dict[str, Any] | Customer | None, now: datetime) -> Customer | None:
    """The shop's customer for `spec` (matched on email), created or updated."""
    if spec is None or isinstance(spec, Customer):
        return spec
    customer = sb.find_customer(shop.domain, spec.get("email"))
    if customer is None:
        legacy, gid = sb.ids.next("Customer")
        customer = Customer(gid, legacy, shop.domain, spec.get("email"), created_at=now)
        sb.customers[gid] = customer
        sb.register(customer, shop.domain)
    for key in ("first_name", "last_name", "phone", "note"):
        if key in spec:
            setattr(customer, key, spec[key])
    if "tags" in spec:
        customer.tags = merge_tags([], list(spec["tags"]))
    customer.orders_count = int(spec["orders_count"]) if "orders_count" in spec else customer.orders_count + 1
    return customer


def _variant(sb: ShopifySandbox, shop: Shop, spec: dict[str, Any]) -> ProductVariant | None:
    """The variant a line item sells: given, found by SKU, or a new product when SKU/type are known."""
    if isinstance(spec.get("variant"), ProductVariant):
        return spec["variant"]
    sku = spec.get("sku")
    if sku:
        found = next((v for v in sb.variants.values() if v.sku == sku and v.product.shop == shop.domain), None)
        if found is not None:
            return found
    if not sku and not spec.get("product_type"):
        return None
    product = sb.add_product(
        shop.domain, spec["title"], vendor=spec.get("vendor") or "", product_type=spec.get("product_type") or "",
        tags=spec.get("product_tags") or (),
        variants=[{"title": spec.get("variant_title") or "Default Title", "sku": sku, "price": spec.get("price", "0.00")}],
    )
    return product.variants[0]


def _line_item(sb: ShopifySandbox, shop: Shop, spec: dict[str, Any], currency: str) -> LineItem:
    legacy, gid = sb.ids.next("LineItem")
    return LineItem(
        gid, legacy, spec["title"], int(spec.get("quantity", 1)), money(spec.get("price", "0.00")),
        sku=spec.get("sku"), vendor=spec.get("vendor"), variant=_variant(sb, shop, spec),
        variant_title=spec.get("variant_title"), requires_shipping=spec.get("requires_shipping", True),
        properties=[(p["name"], p["value"]) for p in spec.get("properties", ())],
        total_discount=money(spec.get("total_discount", "0.00")), currency=currency,
    )


def _terms(name: str | None) -> dict[str, Any] | None:
    """The order's payment terms from the shop's template of that name (or gid)."""
    if name is None:
        return None
    template = next((t for t in PAYMENT_TERMS_TEMPLATES if name in (t["name"], t["id"])), None)
    if template is None:
        raise ValueError(f"no payment terms template {name!r}")
    return {"name": template["name"], "type": template["paymentTermsType"], "due_in_days": template["dueInDays"]}


def build_order(
    sb: ShopifySandbox,
    shop: Shop,
    *,
    line_items: Iterable[dict[str, Any]],
    customer: dict[str, Any] | Customer | None = None,
    email: str | None = None,
    phone: str | None = None,
    tags: Iterable[str] = (),
    note: str | None = None,
    note_attributes: Iterable[dict[str, str]] = (),
    discount_codes: Iterable[dict[str, str]] = (),
    total_discounts: str | Decimal | None = None,
    shipping_price: str | Decimal = "0.00",
    total_tax: str | Decimal = "0.00",
    shipping_address: dict[str, Any] | Address | None = None,
    billing_address: dict[str, Any] | Address | None = None,
    source_name: str | None = "web",
    financial_status: str = "paid",
    currency: str | None = None,
    fulfillment_orders: int = 1,
    fulfillment_orders_visible_after: int = 0,
    fulfillment_orders_routed: bool = True,
    fulfillment_order_status: str = "OPEN",
    fulfill_at: datetime | None = None,
    created_at: datetime | None = None,
    closed_at: datetime | None = None,
    risk_level: str = "LOW",
    risk_recommendation: str = "ACCEPT",
    po_number: str | None = None,
    user_id: int | None = None,
    test: bool = False,
    company: str | None = None,
    company_location: str | None = None,
    payment_terms: str | None = None,
) -> Order:
    """Create an order; line items are split round-robin over `fulfillment_orders` FOs.

    `company` makes it a B2B order (bought for that company, at `company_location`: default a location named
    like the company; its customer is the company contact); `payment_terms` names a payment terms template
    ("Net 30", "Due on receipt"), shown as Order.paymentTerms and the webhook's payment_terms.
    `customer={"tags": [...], "orders_count": n}` sets the sandbox Customer record, which GraphQL serves
    (Customer.tags, numberOfOrders); the webhook body does not carry them.
    """
    specs = list(line_items)
    if not specs:
        raise ValueError("an order needs at least one line item")
    if not 0 <= fulfillment_orders <= len(specs):
        raise ValueError("fulfillment_orders must be between 0 and the number of line items")
    if company_location and not company:
        raise ValueError("company_location needs company (the B2B buyer it is a location of)")
    now = created_at or sb.now()
    currency = currency or shop.currency
    codes = [dict(d) for d in discount_codes]
    if total_discounts is None:
        total_discounts = sum((money(d.get("amount", "0")) for d in codes), Decimal("0"))
    buyer = _customer(sb, shop, customer, now)
    legacy, gid = sb.ids.next("Order")
    order = Order(
        gid, legacy, shop.domain, shop.next_order_number, now, now, currency,
        email=email or (buyer.email if buyer else None), phone=phone, note=note, po_number=po_number,
        tags=merge_tags([], list(tags)), source_name=source_name, financial_status=financial_status.upper(),
        line_items=[_line_item(sb, shop, spec, currency) for spec in specs], customer=buyer,
        shipping_address=_address(sb, shipping_address), billing_address=_address(sb, billing_address),
        discount_codes=codes, total_discounts=money(total_discounts), shipping_price=money(shipping_price),
        total_tax=money(total_tax), note_attributes=[(a["name"], a["value"]) for a in note_attributes],
        closed_at=closed_at, risk_level=risk_level.upper(), risk_recommendation=risk_recommendation.upper(),
        test=test, user_id=user_id, fo_visible_after=fulfillment_orders_visible_after,
        fo_routed=fulfillment_orders_routed, company=company, payment_terms=_terms(payment_terms),
        company_location=company_location if company else None,
    )
    shop.next_order_number += 1
    sb.orders[gid] = order
    sb.register(order, shop.domain)
    for line in order.line_items:
        sb.register(line, shop.domain)
    for n in range(fulfillment_orders):
        fo = FulfillmentOrder(sb.ids.next("FulfillmentOrder")[1], order, now, now, status=fulfillment_order_status,
                              fulfill_at=fulfill_at)
        fo.line_items = [
            FulfillmentOrderLineItem(sb.ids.next("FulfillmentOrderLineItem")[1], li, li.quantity, li.quantity)
            for li in order.line_items[n::fulfillment_orders]
        ]
        sb.register_fulfillment_order(fo)
    return order


def copy_draft_into_order(sb: ShopifySandbox, draft: DraftOrder, now: datetime) -> Order:
    """The paid order a completed draft order becomes."""
    lines = [
        {"title": li.title, "sku": li.sku, "quantity": li.quantity, "price": li.price, "vendor": li.vendor,
         "variant": li.variant, "variant_title": li.variant_title, "requires_shipping": li.requires_shipping,
         "properties": [{"name": k, "value": v} for k, v in li.properties]}
        for li in draft.line_items
    ]
    return build_order(
        sb, sb.shops[draft.shop], line_items=lines, customer=draft.customer, email=draft.email, phone=draft.phone,
        tags=draft.tags, note=draft.note, po_number=draft.po_number,
        note_attributes=[{"name": k, "value": v} for k, v in draft.custom_attributes],
        discount_codes=[{"code": c, "amount": "0.00", "type": "fixed_amount"} for c in draft.discount_codes],
        total_discounts=draft.discount_total, shipping_address=draft.shipping_address,
        source_name=draft.source_name or "shopify_draft_order", currency=draft.currency, created_at=now,
        payment_terms=draft.payment_terms,
    )
