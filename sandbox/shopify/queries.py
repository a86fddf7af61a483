"""Root list queries (orders, productVariants, webhookSubscriptions) and job polling."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from .access import effective
from .context import Ctx
from .search import Field, matches, paginate, parse_query, unknown_fields
from .state import Order


def _order_status(order: Order) -> Any:
    return lambda value: {
        "open": order.closed_at is None and order.cancelled_at is None, "closed": order.closed_at is not None,
        "cancelled": order.cancelled_at is not None, "not_closed": order.closed_at is None, "any": True,
    }.get(value, False)


# The order search fields a reconciliation poll (and an operator) needs.
ORDER_FIELDS: dict[str, Field] = {
    "created_at": ("date", lambda o: o.created_at), "processed_at": ("date", lambda o: o.created_at),
    "updated_at": ("date", lambda o: o.updated_at), "id": ("number", lambda o: o.legacy_id),
    "tag": ("list", lambda o: o.tags),
    "tag_not": ("predicate", lambda o: lambda value: value not in {t.lower() for t in o.tags}),
    "status": ("predicate", _order_status), "name": ("text", lambda o: o.name), "email": ("text", lambda o: o.email),
    "financial_status": ("text", lambda o: o.financial_status), "source_name": ("text", lambda o: o.source_name),
    "fulfillment_status": ("text", lambda o: o.fulfillment_status()),
    "sku": ("list", lambda o: [li.sku for li in o.line_items if li.sku]),
    "customer_id": ("number", lambda o: o.customer.legacy_id if o.customer else None),
}

VARIANT_FIELDS: dict[str, Field] = {
    "sku": ("text", lambda v: v.sku), "title": ("text", lambda v: v.title), "id": ("number", lambda v: v.legacy_id),
    "product_id": ("number", lambda v: v.product.legacy_id), "vendor": ("text", lambda v: v.product.vendor),
    "product_type": ("text", lambda v: v.product.product_type), "tag": ("list", lambda v: v.product.tags),
}


def _search(ctx: Ctx, info: GraphQLResolveInfo, items: list[Any], query: str | None, fields: dict[str, Field],
            free_text: Any) -> list[Any]:
    """The items matching a search string; unknown fields are ignored with a warning, like Shopify."""
    groups = parse_query(query)
    bad = unknown_fields(groups, fields)
    if bad:
        ctx.search.append({
            "path": list(info.path.as_list()), "query": query,
            "warnings": [{"field": f, "message": "Invalid search field for this query."} for f in bad],
        })
    return [i for i in items if matches(i, groups, fields, free_text)]


_ORDER_SORT = {
    "CREATED_AT": lambda o: (o.created_at.timestamp(), o.legacy_id),
    "PROCESSED_AT": lambda o: (o.created_at.timestamp(), o.legacy_id),
    "UPDATED_AT": lambda o: (o.updated_at.timestamp(), o.legacy_id),
    "ORDER_NUMBER": lambda o: (o.number, o.legacy_id),
    "ID": lambda o: (o.legacy_id,),
}


def orders(_: Any, info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "PROCESSED_AT", **page: Any) -> Any:
    """QueryRoot.orders: search, sort, paginate (each returned order counts as read)."""
    ctx: Ctx = info.context
    mine = [o for o in ctx.sb.orders.values() if o.shop == ctx.shop.domain]
    found = _search(ctx, info, mine, query, ORDER_FIELDS,
                    lambda o: [o.name, o.email, *o.tags, o.customer.display_name if o.customer else None])
    conn = paginate(found, _ORDER_SORT.get(sortKey, _ORDER_SORT["ID"]), **page)
    for order in conn["nodes"]:
        ctx.see(order)
    return conn


DRAFT_FIELDS: dict[str, Field] = {
    "tag": ("list", lambda d: d.tags), "status": ("text", lambda d: d.status.lower()),
    "id": ("number", lambda d: d.legacy_id), "created_at": ("date", lambda d: d.created_at),
}


def draft_orders(_: Any, info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "ID", **page: Any) -> Any:
    """QueryRoot.draftOrders: search by tag, status, id, created_at."""
    ctx: Ctx = info.context
    mine = [d for d in ctx.sb.draft_orders.values() if d.shop == ctx.shop.domain]
    found = _search(ctx, info, mine, query, DRAFT_FIELDS, lambda d: [d.name, d.email, *d.tags])
    key = (lambda d: (d.number, d.legacy_id)) if sortKey == "NUMBER" else (lambda d: (d.legacy_id,))
    return paginate(found, key, **page)


# Shopify's standard templates (their ids are the same in every shop).
PAYMENT_TERMS_TEMPLATES = [
    {"id": "gid://shopify/PaymentTermsTemplate/1", "name": "Due on receipt", "description": "Due on receipt",
     "dueInDays": None, "paymentTermsType": "RECEIPT"},
    {"id": "gid://shopify/PaymentTermsTemplate/4", "name": "Net 30", "description": "Within 30 days",
     "dueInDays": 30, "paymentTermsType": "NET"},
]


def payment_terms_templates(_: Any, info: GraphQLResolveInfo, paymentTermsType: str | None = None) -> Any:
    """QueryRoot.paymentTermsTemplates."""
    return [t for t in PAYMENT_TERMS_TEMPLATES if paymentTermsType in (None, t["paymentTermsType"])]


def product_variants(_: Any, info: GraphQLResolveInfo, query: str | None = None, sortKey: str = "ID", **page: Any) -> Any:
    """QueryRoot.productVariants."""
    ctx: Ctx = info.context
    mine = [v for v in ctx.sb.variants.values() if v.product.shop == ctx.shop.domain]
    found = _search(ctx, info, mine, query, VARIANT_FIELDS, lambda v: [v.display_name, v.sku])
    sort = {"SKU": lambda v: (v.sku or "", v.legacy_id), "TITLE": lambda v: (v.display_name, v.legacy_id)}
    return paginate(found, sort.get(sortKey, lambda v: (v.legacy_id,)), **page)


def webhook_subscriptions(_: Any, info: GraphQLResolveInfo, callbackUrl: str | None = None, format: str | None = None,
                           topics: list[str] | None = None, query: str | None = None, sortKey: str = "CREATED_AT",
                           uri: str | None = None, **page: Any) -> Any:
    """QueryRoot.webhookSubscriptions: the calling app's shop-scoped subscriptions on this shop. "Returns only
    shop-scoped subscriptions, not app-scoped subscriptions configured in TOML files"
    (https://shopify.dev/docs/api/admin-graphql/2025-07/queries/webhookSubscriptions): those live apart, in
    ShopifySandbox.deliveries.app_subscriptions."""
    ctx: Ctx = info.context
    subs = [
        s for s in ctx.sb.webhook_subscriptions.values()
        if s.shop == ctx.shop.domain and s.app == ctx.app and (callbackUrl is None or s.callback_url == callbackUrl)
        and (uri is None or s.callback_url == uri)
        and (format is None or s.format == format) and (topics is None or s.topic in topics)
    ]
    fields: dict[str, Field] = {"topic": ("text", lambda s: s.topic), "id": ("number", lambda s: s.legacy_id)}
    subs = _search(ctx, info, subs, query, fields, lambda s: [s.topic, s.callback_url])
    key = (lambda s: (s.legacy_id,)) if sortKey == "ID" else (lambda s: (s.created_at.timestamp(), s.legacy_id))
    return paginate(subs, key, **page)



def current_app_installation(_: Any, info: GraphQLResolveInfo) -> Any:
    """QueryRoot.currentAppInstallation: the calling app on this shop, with the access scopes the merchant granted
    it, each write scope's read scope listed too, as Shopify lists them
    (https://shopify.dev/docs/api/admin-graphql/2025-10/queries/appinstallation, its example answer).
    A test takes one away with `sb.grants[(shop, app)]`."""
    ctx: Ctx = info.context
    granted = effective(ctx.sb.granted(ctx.shop.domain, ctx.app))
    return {"id": f"gid://shopify/AppInstallation/{ctx.sb.app(ctx.app).legacy_id}",
            "accessScopes": [{"handle": h} for h in sorted(granted)]}

def job(_: Any, info: GraphQLResolveInfo, id: str) -> Any:
    """QueryRoot.job: each read brings the job closer to done; finishing applies its effect."""
    ctx: Ctx = info.context
    job = ctx.sb.jobs.get(id)
    if job is None or job.shop != ctx.shop.domain:
        return None
    job.reads += 1
    if not job.done and job.reads >= job.reads_until_done:
        job.done = True
        job.on_done()
    return job
