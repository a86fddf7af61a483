"""REST (webhook) serialisation of sandbox resources, shaped like Shopify's webhook bodies.

The shape oracle is the real bodies in ../shared/shopify/webhooks/ (orders/create, fulfillment_orders/*): every
key sent here exists there with the same JSON type (tests/sandbox/test_webhook_shapes.py). A field the samples
happen not to show (an empty list, a null object) is added only through `documented`, and only where Shopify's
reference documents it: `DOCUMENTED` names the page for each one.

What the samples do NOT carry is deliberately absent: since API 2025-01 the order webhook's `customer` has no
`tags` (and `orders_count` left it in 2022), and line items carry no `product_type`. Those facts come from the
Admin GraphQL API (Customer.tags, Customer.numberOfOrders, Product.productType); the sandbox serves them there.
The sample is not a B2B order, so it has no `company`; a B2B order's body has one (ids only, DOCUMENTED), and
its names come from Order.purchasingEntity.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Address, Customer, FulfillmentOrder, Hold, LineItem, Order

REST_ORDER = "https://shopify.dev/docs/api/admin-rest/2026-10/resources/order#resource-object"

# Paths ("a.b[].c") the samples leave empty or null, with the page documenting them and the shape sent there
# (a value's Python type stands for its JSON type). Nothing else may be added to a body beyond the samples.
DOCUMENTED: dict[str, tuple[str, dict[str, Any]]] = {
    # "discount_codes: A list of discounts applied to the order. Each discount object includes: amount, code, type"
    "discount_codes[]": (REST_ORDER, {"code": "", "amount": "", "type": ""}),
    # "note_attributes: Extra information that is added to the order ... name, value"
    "note_attributes[]": (REST_ORDER, {"name": "", "value": ""}),
    # "line_items.properties: An array of custom information for the item ... name, value"
    "line_items[].properties[]": (REST_ORDER, {"name": "", "value": ""}),
    # "payment_terms: The terms and conditions under which a payment should be processed":
    # payment_terms_name, payment_terms_type, due_in_days (the sample's order has none: null)
    "payment_terms": (REST_ORDER, {"payment_terms_name": "", "payment_terms_type": "", "due_in_days": 0}),
    # company: the B2B company (id) and company location (location_id) the order was placed for. Only a B2B
    # order has it (the sample, a direct-to-consumer order, has no such key).
    "company": (REST_ORDER, {"id": 0, "location_id": 0}),
}


def documented(path: str, value: Any) -> Any:
    """`value` for a field the samples lack; refuses a path no Shopify reference page is on record for."""
    if path not in DOCUMENTED:
        raise KeyError(f"{path} is neither in Shopify's sample webhook bodies nor in rest.DOCUMENTED")
    return value


def rest_time(value: datetime | None) -> str | None:
    """Shopify's REST timestamp format (ISO 8601 with offset, whole seconds)."""
    return value.isoformat(timespec="seconds") if value else None


def _price_set(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": f"{amount:.2f}", "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "first_name": address.first_name, "address1": address.address1, "phone": address.phone,
        "city": address.city, "zip": address.zip, "province": address.province,
        "country": address.country, "last_name": address.last_name, "address2": address.address2,
        "company": address.company, "latitude": None, "longitude": None, "name": address.name,
        "country_code": address.country_code, "province_code": address.province_code,
    }


def _customer(customer: Customer | None, currency: str) -> dict[str, Any] | None:
    # No `tags`, no `orders_count`: the real body has neither (see the module docstring).
    if customer is None:
        return None
    return {
        "id": customer.legacy_id, "created_at": rest_time(customer.created_at),
        "updated_at": rest_time(customer.created_at), "first_name": customer.first_name,
        "last_name": customer.last_name, "state": "enabled", "note": customer.note, "verified_email": True,
        "multipass_identifier": None, "tax_exempt": False, "email": customer.email, "phone": customer.phone,
        "currency": currency, "tax_exemptions": [], "admin_graphql_api_id": customer.gid, "default_address": None,
    }


def _line_item(item: LineItem, currency: str) -> dict[str, Any]:
    variant = item.variant
    return {
        "id": item.legacy_id, "admin_graphql_api_id": item.gid, "attributed_staffs": [],
        "current_quantity": item.quantity, "fulfillable_quantity": item.quantity,
        "fulfillment_service": "manual", "fulfillment_status": None, "gift_card": False,
        "grams": 0, "name": item.name, "price": f"{item.price:.2f}",
        "price_set": _price_set(item.price, currency), "product_exists": variant is not None,
        "product_id": variant.product.legacy_id if variant else None,
        "properties": [documented("line_items[].properties[]", {"name": k, "value": v}) for k, v in item.properties],
        "quantity": item.quantity, "requires_shipping": item.requires_shipping,
        "sku": item.sku, "taxable": True, "title": item.title,
        "total_discount": f"{item.total_discount:.2f}",
        "total_discount_set": _price_set(item.total_discount, currency),
        "variant_id": variant.legacy_id if variant else None,
        "variant_inventory_management": None, "variant_title": item.variant_title,
        "vendor": item.vendor, "tax_lines": [], "duties": [], "discount_allocations": [],
    }


def _payment_terms(order: Order) -> dict[str, Any] | None:
    terms = order.payment_terms
    if not terms:
        return None
    return documented("payment_terms", {"payment_terms_name": terms["name"], "payment_terms_type": terms["type"],
                                        "due_in_days": terms.get("due_in_days")})


def purchasing_company(order: Order) -> dict[str, Any] | None:
    """A B2B order's company, location and contact ids (None for any other order). The ids follow from the names,
    so every order of one company names the same Company; the contact is the order's customer, as a company
    contact places B2B orders (https://shopify.dev/docs/api/admin-graphql/2026-10/objects/PurchasingCompany)."""
    if not order.company:
        return None
    location = order.company_location or order.company
    company_id, location_id = zlib.crc32(order.company.encode()), zlib.crc32(f"{order.company}/{location}".encode())
    customer = order.customer
    return {"name": order.company, "id": company_id, "gid": f"gid://shopify/Company/{company_id}",
            "location_name": location, "location_id": location_id,
            "location_gid": f"gid://shopify/CompanyLocation/{location_id}",
            "contact_gid": f"gid://shopify/CompanyContact/{customer.legacy_id}" if customer else None}


def _company(order: Order) -> dict[str, Any] | None:
    b2b = purchasing_company(order)
    return documented("company", {"id": b2b["id"], "location_id": b2b["location_id"]}) if b2b else None


def order_to_rest(order: Order) -> dict[str, Any]:
    """An order as Shopify's orders/* webhooks carry it."""
    cur = order.currency
    amounts = {
        "subtotal_price": order.subtotal, "total_price": order.total,
        "total_discounts": order.total_discounts, "total_tax": order.total_tax,
        "total_line_items_price": order.line_items_total,
    }
    body: dict[str, Any] = {
        "id": order.legacy_id, "admin_graphql_api_id": order.gid, "app_id": None,
        "buyer_accepts_marketing": False, "cancel_reason": (order.cancel_reason or "").lower() or None,
        "cancelled_at": rest_time(order.cancelled_at), "closed_at": rest_time(order.closed_at),
        "confirmed": True, "contact_email": order.email, "created_at": rest_time(order.created_at),
        "currency": cur, "customer_locale": "en",
        "discount_codes": [documented("discount_codes[]", dict(d)) for d in order.discount_codes],
        "email": order.email, "financial_status": order.financial_status.lower(),
        "fulfillment_status": "fulfilled" if order.fulfillment_status() == "FULFILLED" else None,
        "name": order.name, "note": order.note,
        "note_attributes": [documented("note_attributes[]", {"name": k, "value": v}) for k, v in order.note_attributes],
        "number": order.number - 1000, "order_number": order.number, "phone": order.phone,
        "po_number": order.po_number, "presentment_currency": cur, "payment_terms": _payment_terms(order),
        "processed_at": rest_time(order.created_at), "source_name": order.source_name,
        "tags": ", ".join(order.tags), "test": order.test, "taxes_included": False,
        "total_outstanding": "0.00" if order.financial_status == "PAID" else f"{order.total:.2f}",
        "total_shipping_price_set": _price_set(order.shipping_price, cur),
        "updated_at": rest_time(order.updated_at), "user_id": order.user_id,
        "billing_address": _address(order.billing_address),
        "shipping_address": _address(order.shipping_address),
        "customer": _customer(order.customer, cur),
        "line_items": [_line_item(li, cur) for li in order.line_items],
        "fulfillments": [], "refunds": [], "shipping_lines": [], "tax_lines": [],
        "discount_applications": [],
    }
    if company := _company(order):
        body["company"] = company
    for key, amount in amounts.items():
        body[key] = f"{amount:.2f}"
        body[f"{key}_set"] = _price_set(amount, cur)
    for key in ("subtotal_price", "total_price", "total_discounts", "total_tax"):
        body[f"current_{key}"] = body[key]
        body[f"current_{key}_set"] = body[f"{key}_set"]
    return body


def _hold(hold: Hold, requesting_app: str | None, app_gid: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": hold.gid, "reason": hold.reason.lower(), "reason_notes": hold.reason_notes,
        "held_by_requesting_app": hold.app == requesting_app, "handle": hold.handle,
    }
    if app_gid:
        out["held_by_app"] = {"id": app_gid}
    return out


def placed_on_hold_body(fo: FulfillmentOrder, hold: Hold, app: str | None = None,
                        app_gids: dict[str, str] | None = None) -> dict[str, Any]:
    """The fulfillment_orders/placed_on_hold webhook body for `hold` on `fo` (as `app` receives it);
    `app_gids` (app name -> App gid) fills each hold's `held_by_app`."""
    gids = app_gids or {}
    return {
        "fulfillment_order": {
            "id": fo.gid, "status": fo.status.lower(),
            "fulfillment_holds": [_hold(h, app, gids.get(h.app)) for h in fo.holds],
        },
        "remaining_fulfillment_order": None,
        "held_fulfillment_order_line_items": [
            {"id": li.gid, "quantity": li.total_quantity} for li in fo.line_items
        ],
        "created_fulfillment_hold": _hold(hold, app, gids.get(hold.app)),
    }


def hold_released_body(fo: FulfillmentOrder) -> dict[str, Any]:
    """The fulfillment_orders/hold_released webhook body for `fo`."""
    return {"fulfillment_order": {"id": fo.gid, "status": fo.status.lower()}}
