"""Query resolvers: map the sandbox's data model onto the GraphQL schema."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema

from . import customer_data, drafts, mutations, queries
from .context import Ctx, type_name
from .rest import purchasing_company
from .schema import API_VERSION
from .search import paginate
from .state import Customer, Order


def iso(value: datetime | None) -> str | None:
    """Shopify's GraphQL DateTime format."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def decimal_str(value: Any) -> str:
    """Shopify's Decimal format: shortest form with at least one decimal place ("24.0")."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text if "." in text else f"{text}.0"


def bag(amount: Decimal, currency: str) -> dict[str, Any]:
    """A MoneyBag with the same amount in shop and presentment currency."""
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def default_resolver(source: Any, info: GraphQLResolveInfo, **_: Any) -> Any:
    """Dict keys as-is; object attributes in snake_case; `id` is the object's gid."""
    name = info.field_name
    if isinstance(source, dict):
        return source.get(name)
    if name == "id":
        return source.gid
    if name == "legacyResourceId":
        return source.legacy_id
    return getattr(source, re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(), None)


def _risk(order: Order, _: Any) -> dict[str, Any]:
    return {
        "recommendation": order.risk_recommendation,
        "assessments": [{"riskLevel": order.risk_level, "facts": [], "provider": None}],
    }


def _in_order(items: list[Any], page: dict[str, Any]) -> dict[str, Any]:
    """A connection over `items` in their natural order."""
    position = {id(item): n for n, item in enumerate(items)}
    return paginate(items, lambda item: (position[id(item)],), **page)


def _fulfillment_orders(order: Order, info: GraphQLResolveInfo, displayable: bool = False, **page: Any) -> Any:
    # Every sandbox FO is displayable, so `displayable` filters nothing.
    return _in_order(order.fulfillment_orders if info.context.see(order) else [], page)


def _positional(attr: str) -> Any:
    """Resolver paginating a list attribute in its natural order."""
    return lambda source, _, **page: _in_order(getattr(source, attr), page)


def _app(ctx: Ctx, name: str) -> dict[str, Any]:
    app = ctx.sb.app(name)
    return {"id": app.gid, "title": name, "handle": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
            "apiKey": hashlib.sha256(name.encode()).hexdigest()[:32]}


def _amount_spent(c: Customer, info: GraphQLResolveInfo) -> dict[str, Any]:
    orders = [o for o in info.context.sb.orders.values() if o.customer is c and o.cancelled_at is None]
    return {"amount": sum((o.total for o in orders), Decimal("0")), "currencyCode": info.context.shop.currency}


def _purchasing_entity(order: Order, _: Any) -> Any:
    """A B2B order's buyer is a company (PurchasingCompany: company, location, contact), any other order's its
    customer (https://shopify.dev/docs/api/admin-graphql/latest/unions/PurchasingEntity)."""
    b2b = purchasing_company(order)
    if b2b is None:
        return order.customer
    company = {"id": b2b["gid"], "name": b2b["name"]}
    contact = ({"id": b2b["contact_gid"], "company": company, "customer": order.customer, "isMainContact": True,
                "title": None} if b2b["contact_gid"] else None)
    return {"company": company, "location": {"id": b2b["location_gid"], "name": b2b["location_name"],
                                             "company": company}, "contact": contact}


def _payment_terms(order: Order, _: Any) -> dict[str, Any] | None:
    """Order.paymentTerms from the template the order was placed on
    (https://shopify.dev/docs/api/admin-graphql/2026-10/objects/PaymentTerms); a sandbox order is never overdue."""
    terms = order.payment_terms
    if not terms:
        return None
    return {"id": f"gid://shopify/PaymentTerms/{order.legacy_id}", "paymentTermsName": terms["name"],
            "paymentTermsType": terms["type"], "dueInDays": terms.get("due_in_days"), "translatedName": terms["name"],
            "due": False, "overdue": False, "order": order}


def _money(attr: str) -> Any:
    return lambda o, info, **_: bag(getattr(o, attr), o.currency)


_FIELD_RESOLVERS: dict[str, dict[str, Any]] = {
    "QueryRoot": {
        "node": lambda _, info, id: info.context.node(id),
        "nodes": lambda _, info, ids: [info.context.node(i) for i in ids],
        "order": lambda _, info, id: info.context.node(id, "Order"),
        "fulfillmentOrder": lambda _, info, id: info.context.node(id, "FulfillmentOrder"),
        "customer": lambda _, info, id: info.context.node(id, "Customer"),
        "draftOrder": lambda _, info, id: info.context.node(id, "DraftOrder"),
        "product": lambda _, info, id: info.context.node(id, "Product"),
        "productVariant": lambda _, info, id: info.context.node(id, "ProductVariant"),
        "orders": queries.orders, "productVariants": queries.product_variants,
        "draftOrders": queries.draft_orders, "paymentTermsTemplates": queries.payment_terms_templates,
        "webhookSubscriptions": queries.webhook_subscriptions, "job": queries.job,
        "shop": lambda _, info: info.context.shop, "currentAppInstallation": queries.current_app_installation,
    },
    "Shop": {
        "name": lambda s, _: s.name or s.domain.split(".")[0], "myshopifyDomain": lambda s, _: s.domain,
        "email": lambda s, _: f"owner@{s.domain}", "currencyCode": lambda s, _: s.currency,
        "ianaTimezone": lambda s, _: "Etc/UTC", "url": lambda s, _: f"https://{s.domain}",
    },
    "Order": {
        "processedAt": lambda o, _: o.created_at, "closed": lambda o, _: o.closed_at is not None,
        "displayFinancialStatus": lambda o, _: o.financial_status,
        "displayFulfillmentStatus": lambda o, _: o.fulfillment_status(),
        "currencyCode": lambda o, _: o.currency, "presentmentCurrencyCode": lambda o, _: o.currency,
        "subtotalLineItemsQuantity": lambda o, _: sum(li.quantity for li in o.line_items),
        "totalPriceSet": _money("total"), "currentTotalPriceSet": _money("total"),
        "subtotalPriceSet": _money("subtotal"), "currentSubtotalPriceSet": _money("subtotal"),
        "totalDiscountsSet": _money("total_discounts"), "currentTotalDiscountsSet": _money("total_discounts"),
        "totalShippingPriceSet": _money("shipping_price"), "totalTaxSet": _money("total_tax"),
        "discountCode": lambda o, _: o.discount_codes[0]["code"] if o.discount_codes else None,
        "discountCodes": lambda o, _: [d["code"] for d in o.discount_codes],
        "customAttributes": lambda o, _: [{"key": k, "value": v} for k, v in o.note_attributes],
        "purchasingEntity": _purchasing_entity, "paymentTerms": _payment_terms, "risk": _risk, "lineItems": _positional("line_items"), "fulfillmentOrders": _fulfillment_orders,
        # Shopify's default namespace for an app's own metafields when none is given.
        "metafield": lambda o, _, key, namespace="$app": o.metafields.get((namespace, key)),
    },
    "Customer": {
        "defaultEmailAddress": lambda c, _: {"emailAddress": c.email} if c.email else None,
        "numberOfOrders": lambda c, _: c.orders_count, "amountSpent": _amount_spent,
    },
    "MailingAddress": {"countryCodeV2": lambda a, _: a.country_code},
    "LineItem": {
        "currentQuantity": lambda li, _: li.quantity,
        "customAttributes": lambda li, _: [{"key": k, "value": v} for k, v in li.properties],
        "originalUnitPriceSet": _money("price"),
        "originalTotalSet": lambda li, _: bag(li.price * li.quantity, li.currency),
        "totalDiscountSet": _money("total_discount"),
        "product": lambda li, _: li.variant.product if li.variant else None,
    },
    "FulfillmentOrder": {
        "fulfillmentHolds": lambda fo, _: fo.holds, "orderId": lambda fo, _: fo.order.gid,
        "orderName": lambda fo, _: fo.order.name, "lineItems": _positional("line_items"),
    },
    "FulfillmentOrderLineItem": {
        attr: (lambda a: lambda foli, _: getattr(foli.line_item, a))(src)
        for attr, src in {"productTitle": "title", "requiresShipping": "requires_shipping", "sku": "sku",
                          "variantTitle": "variant_title", "vendor": "vendor"}.items()
    },
    "FulfillmentHold": {
        "displayReason": lambda h, _: h.reason.replace("_", " ").capitalize(),
        "heldByApp": lambda h, info: _app(info.context, h.app),
        "heldByRequestingApp": lambda h, info: h.app == info.context.app,
    },
    "DraftOrder": {
        "note2": lambda d, _: d.note, "ready": lambda d, _: True,
        "invoiceUrl": lambda d, _: f"https://{d.shop}/{d.legacy_id}/invoices/{hashlib.md5(d.gid.encode()).hexdigest()}",
        "currencyCode": lambda d, _: d.currency, "presentmentCurrencyCode": lambda d, _: d.currency,
        "customAttributes": lambda d, _: [{"key": k, "value": v} for k, v in d.custom_attributes],
        "appliedDiscount": lambda d, _: d.applied_discount and {
            **d.applied_discount, "amountSet": bag(d.discount_total, d.currency)},
        "subtotalPriceSet": _money("total"), "totalDiscountsSet": _money("discount_total"),
        "totalLineItemsPriceSet": _money("line_items_total"), "totalPriceSet": _money("total"),
        "totalQuantityOfLineItems": lambda d, _: sum(li.quantity for li in d.line_items),
        "lineItems": _positional("line_items"),
    },
    "DraftOrderLineItem": {
        "custom": lambda li, _: li.variant is None, "originalUnitPriceSet": _money("price"),
    },
    "ProductVariant": {"availableForSale": lambda v, _: v.product.status == "ACTIVE"},
    "WebhookSubscription": {
        "uri": lambda s, _: s.callback_url, "endpoint": lambda s, _: {"callbackUrl": s.callback_url},
        "updatedAt": lambda s, _: s.created_at,
        "apiVersion": lambda s, _: {"displayName": API_VERSION, "handle": API_VERSION, "supported": True},
    },
    "Job": {"query": lambda job, _: {}},
}


def install(schema: GraphQLSchema) -> GraphQLSchema:
    """Attach resolvers, abstract-type resolution and scalar serialisers to the built schema."""
    for type_name_, resolvers in {**_FIELD_RESOLVERS, "Mutation": {**mutations.RESOLVERS, **drafts.RESOLVERS}}.items():
        fields = schema.type_map[type_name_].fields  # type: ignore[attr-defined]
        for field_name, resolver in resolvers.items():
            fields[field_name].resolve = resolver
    customer_data.protect(schema, default_resolver)  # protected customer data: redacted unless approved
    for abstract in ("Node", "LegacyInteroperability"):
        schema.type_map[abstract].resolve_type = lambda obj, *_: type_name(obj)  # type: ignore[attr-defined]
    schema.type_map["PurchasingEntity"].resolve_type = (  # type: ignore[attr-defined]
        lambda obj, *_: "Customer" if isinstance(obj, Customer) else "PurchasingCompany")
    schema.type_map["WebhookSubscriptionEndpoint"].resolve_type = lambda *_: "WebhookHttpEndpoint"  # type: ignore[attr-defined]
    scalars = {
        "DateTime": iso, "Decimal": decimal_str, "Money": lambda v: f"{Decimal(str(v)):.2f}",
        "UnsignedInt64": str, "URL": str,
    }
    for name, serialize in scalars.items():
        scalar = schema.type_map[name]
        scalar.serialize = serialize  # type: ignore[attr-defined]  # graphql-core 3.2
        scalar.coerce_output_value = serialize  # type: ignore[attr-defined]  # graphql-core 3.3
    return schema

