"""Normalise Shopify order payloads (webhook REST shape or GraphQL node) into `OrderFacts`.

What an orders/create webhook carries is what ../shared/shopify/webhooks/orders_create.*.json shows (a real body):
no customer tags (gone from order webhooks in API 2025-01), no customer orders count (gone in 2022), no product
type or tags on line items, no B2B company, no risk. Those come from one GraphQL read (`enrich`, document
ORDER_ENRICHMENT) when an enabled policy asks for them; `OrderFacts.enriched` says which facts it supplied.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any


MAX_AMOUNT = Decimal("1e15")


class OrderPayloadError(ValueError):
    """The payload is not an order we can read (missing id, wrong types)."""


@dataclass(frozen=True)
class LineItem:
    """One line of an order, reduced to what policies and messages use."""

    title: str
    quantity: int
    price: Decimal
    sku: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    product_tags: tuple[str, ...] | None = None  # not in webhooks: filled by one GraphQL read when a policy asks


@dataclass(frozen=True)
class OrderFacts:
    """Everything policies may ask about an order; absent facts are None, never guessed."""

    gid: str
    legacy_id: str
    name: str
    currency: str
    total_price: Decimal
    subtotal_price: Decimal | None = None
    line_items_price: Decimal | None = None
    total_discounts: Decimal = Decimal("0")
    discount_codes: tuple[str, ...] = ()
    order_tags: tuple[str, ...] = ()
    customer_tags: tuple[str, ...] | None = None  # not in webhooks: filled by one GraphQL read when a policy asks
    customer_name: str | None = None
    customer_email: str | None = None
    customer_orders_count: int | None = None
    source_name: str | None = None
    shipping_country: str | None = None
    note_attributes: dict[str, str] = field(default_factory=dict)
    financial_status: str | None = None
    line_items: tuple[LineItem, ...] = ()
    created_at: str | None = None
    staff_user_id: str | None = None
    shipping_province: str | None = None
    shipping_methods: tuple[str, ...] = ()
    payment_gateways: tuple[str, ...] = ()
    payment_terms: str | None = None
    b2b: bool | None = None
    risk_level: str | None = None  # not in webhooks: filled by one GraphQL read when a policy asks
    risk_recommendation: str | None = None
    origin: str = "webhook"  # where the payload came from: webhook (REST body) or graphql (an Order node)
    enriched: frozenset[str] = frozenset()  # facts `enrich` supplied from GraphQL (names of conditions.FACTS)

    @property
    def customer_email_domain(self) -> str | None:
        """The part after @ of the customer's email, lower-cased."""
        email = self.customer_email or ""
        return email.rsplit("@", 1)[1].lower() if "@" in email else None

    @property
    def total_quantity(self) -> int:
        """Units across all line items."""
        return sum(li.quantity for li in self.line_items)

    @property
    def first_order(self) -> bool | None:
        """True for a customer's first order (None when the count is unknown)."""
        return None if self.customer_orders_count is None else self.customer_orders_count <= 1

    @property
    def product_types(self) -> tuple[str, ...] | None:
        """Types of the products ordered; None until a GraphQL read supplied them (webhooks carry none)."""
        if self.origin != "graphql" and "product_type" not in self.enriched:
            return None
        return tuple(dict.fromkeys(li.product_type for li in self.line_items if li.product_type))

    @property
    def product_tags(self) -> tuple[str, ...] | None:
        """Tags of every product ordered; None until a GraphQL read supplied them."""
        if any(li.product_tags is None for li in self.line_items) or not self.line_items:
            return None
        return tuple(dict.fromkeys(t for li in self.line_items for t in li.product_tags or ()))

    @property
    def discount_percent(self) -> Decimal | None:
        """Discount as a percent of the pre-discount line total (100 = free sample)."""
        base = self.line_items_price
        if base is None and self.line_items:
            base = sum((li.price * li.quantity for li in self.line_items), Decimal("0"))
        if not base:
            return None
        try:
            return (self.total_discounts / base * 100).quantize(Decimal("0.01"))
        except InvalidOperation:  # absurd magnitudes: no meaningful percent
            return None

    def snapshot(self) -> dict[str, Any]:
        """A JSON-safe copy stored with the request (what the approver saw)."""
        return {
            "gid": self.gid,
            "legacy_id": self.legacy_id,
            "name": self.name,
            "currency": self.currency,
            "total_price": str(self.total_price),
            "total_discounts": str(self.total_discounts),
            "customer_name": self.customer_name,
            "customer_email": self.customer_email,
            "source_name": self.source_name,
            "shipping_country": self.shipping_country,
            "line_items": [
                {"title": li.title, "quantity": li.quantity, "price": str(li.price), "sku": li.sku}
                for li in self.line_items
            ],
        }


_RISK_RANK = ["NONE", "PENDING", "LOW", "MEDIUM", "HIGH"]


def _risk_level(risk: dict[str, Any]) -> str | None:
    levels = [a.get("riskLevel") for a in risk.get("assessments") or [] if a.get("riskLevel")]
    return max(levels, key=lambda lv: _RISK_RANK.index(lv) if lv in _RISK_RANK else 0) if levels else None


def _enriched_items(items: tuple[LineItem, ...], nodes: list[dict[str, Any]]) -> tuple[LineItem, ...]:
    """Line items with their products' tags and type, matched on SKU, else on title."""
    by_sku: dict[str | None, dict[str, Any]] = {}
    by_title: dict[str, dict[str, Any]] = {}
    for li in nodes:
        product = li.get("product") or {}
        by_sku[li.get("sku") or None] = product
        by_title[li.get("title") or ""] = product
    out = []
    for li in items:
        product = by_sku[li.sku] if li.sku in by_sku else by_title.get(li.title, {})
        out.append(replace(li, product_tags=tuple(product.get("tags") or ()),
                           product_type=li.product_type or product.get("productType") or None))
    return tuple(out)


def enrich(facts: OrderFacts, node: dict[str, Any]) -> OrderFacts:
    """Add what only GraphQL knows from an `OrderEnrichment` node: the customer's tags and number of orders,
    product tags and types, whether a company bought it (B2B), and risk. Only what the node holds is taken (a
    guest order's null customer: no tags, an unknown orders count)."""
    changes: dict[str, Any] = {}
    got: set[str] = set()
    if "lineItems" in node:
        changes["line_items"] = _enriched_items(facts.line_items, (node["lineItems"] or {}).get("nodes") or [])
        got |= {"product_tag", "product_type"}
    if "customer" in node:
        customer = node["customer"] or {}
        count = customer.get("numberOfOrders")  # UnsignedInt64: a string of digits
        changes.update(customer_tags=_tags(customer.get("tags")),
                       customer_orders_count=int(count) if count is not None else None)
        got |= {"customer_tag", "customer_orders_count", "first_order"}
    if "purchasingEntity" in node:  # a company bought it (B2B), or the customer did
        changes["b2b"] = (node["purchasingEntity"] or {}).get("__typename") == "PurchasingCompany"
        got.add("b2b")
    if "risk" in node:
        risk = node["risk"] or {}
        changes.update(risk_level=_risk_level(risk) or facts.risk_level,
                       risk_recommendation=risk.get("recommendation") or facts.risk_recommendation)
        got |= {"risk_level", "risk_recommendation"}
    return replace(facts, **changes, enriched=facts.enriched | got)


def _money(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise OrderPayloadError(f"{what} is not a number: {value!r}") from exc
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise OrderPayloadError(f"{what} is not a usable amount: {value!r}")
    return amount


def _s(value: Any) -> str | None:
    """A text fact only when the payload really sent text (anything else is treated as absent)."""
    return value if isinstance(value, str) and value else None


def _tags(value: Any) -> tuple[str, ...]:
    # REST sends "a, b"; GraphQL sends ["a", "b"]. Shopify compares tags case-insensitively.
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(t.strip() for t in parts if t and t.strip())


def _name(customer: dict[str, Any]) -> str | None:
    full = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    return full or _s(customer.get("email"))


def from_webhook(body: dict[str, Any]) -> OrderFacts:
    """Facts from an `orders/create`-style REST body; anything unreadable is an OrderPayloadError."""
    if not isinstance(body, dict) or "id" not in body:
        raise OrderPayloadError("order payload has no `id`")
    try:
        return _from_webhook(body)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        if isinstance(exc, OrderPayloadError):
            raise
        raise OrderPayloadError(f"a field has an unexpected type or value: {exc}") from None


def _from_webhook(body: dict[str, Any]) -> OrderFacts:
    legacy = str(body["id"])
    customer = body.get("customer") or {}
    shipping = body.get("shipping_address") or {}
    items = tuple(
        LineItem(
            title=str(li.get("title") or li.get("name") or "item"),
            quantity=int(li.get("quantity") or 0),
            price=_money(li.get("price") or "0", "line item price"),
            sku=_s(li.get("sku")),
            vendor=_s(li.get("vendor")),
        )
        for li in body.get("line_items") or []
    )
    terms = body.get("payment_terms") or {}
    return OrderFacts(
        gid=body.get("admin_graphql_api_id") or f"gid://shopify/Order/{legacy}",
        legacy_id=legacy,
        name=str(body.get("name") or f"#{body.get('order_number', legacy)}"),
        currency=_s(body.get("currency")) or "USD",
        total_price=_money(body.get("total_price") or "0", "total_price"),
        subtotal_price=_money(body["subtotal_price"], "subtotal_price") if body.get("subtotal_price") else None,
        line_items_price=(
            _money(body["total_line_items_price"], "total_line_items_price")
            if body.get("total_line_items_price")
            else None
        ),
        total_discounts=_money(body.get("total_discounts") or "0", "total_discounts"),
        discount_codes=tuple(str(d.get("code")) for d in body.get("discount_codes") or [] if d.get("code")),
        order_tags=_tags(body.get("tags")),
        # Redacted (no protected customer data access) the name and email are null: None, never guessed.
        customer_name=_name(customer) if customer else None,
        customer_email=_s(customer.get("email")) or _s(body.get("email")),
        source_name=_s(body.get("source_name")),
        shipping_country=_s(shipping.get("country_code")) or _s(shipping.get("country")),
        note_attributes={str(a.get("name")): str(a.get("value")) for a in body.get("note_attributes") or []},
        financial_status=_s(body.get("financial_status")),
        line_items=items,
        created_at=body.get("created_at"),
        staff_user_id=str(body["user_id"]) if body.get("user_id") else None,
        shipping_province=_s(shipping.get("province_code")) or _s(shipping.get("province")),
        shipping_methods=tuple(str(x) for sl in body.get("shipping_lines") or []
                               for x in (sl.get("title"), sl.get("code")) if x),
        payment_gateways=tuple(str(g) for g in body.get("payment_gateway_names") or []),
        payment_terms=_s(terms.get("payment_terms_name")) or _s(terms.get("payment_terms_type")),
        # Not read from the body even when a payload has them (Shopify's does not): customer tags and orders
        # count, product types, B2B. `enrich` fills them, so a test built on a made-up body cannot pass for them.
    )


def _amount(money_bag: Any) -> Decimal | None:
    amount = ((money_bag or {}).get("shopMoney") or {}).get("amount")
    return _money(amount, "amount") if amount is not None else None


def from_graphql(node: dict[str, Any]) -> OrderFacts:
    """Facts from an Admin GraphQL `Order` node (reconciliation reads orders this way)."""
    if not isinstance(node, dict) or not node.get("id"):
        raise OrderPayloadError("order node has no `id`")
    customer = node.get("customer") or {}
    items = tuple(
        LineItem(
            title=str(li.get("title") or li.get("name") or "item"),
            quantity=int(li.get("quantity") or 0),
            price=_amount(li.get("originalUnitPriceSet")) or Decimal("0"),
            sku=li.get("sku") or None,
            vendor=li.get("vendor") or None,
            product_type=(li.get("product") or {}).get("productType") or None,
        )
        for li in (node.get("lineItems") or {}).get("nodes") or []
    )
    name = " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
    email = (customer.get("defaultEmailAddress") or {}).get("emailAddress") or node.get("email")
    orders_count = customer.get("numberOfOrders")
    status = node.get("displayFinancialStatus")
    return OrderFacts(
        gid=node["id"],
        legacy_id=str(node.get("legacyResourceId") or node["id"].rsplit("/", 1)[-1]),
        name=str(node.get("name") or node["id"]),
        currency=str(node.get("currencyCode") or "USD"),
        total_price=_amount(node.get("totalPriceSet")) or Decimal("0"),
        subtotal_price=_amount(node.get("subtotalPriceSet")),
        total_discounts=_amount(node.get("totalDiscountsSet")) or Decimal("0"),
        discount_codes=tuple(node.get("discountCodes") or ()),
        order_tags=_tags(node.get("tags")),
        customer_tags=_tags(customer.get("tags")),
        customer_name=(name or email) if customer else None,
        customer_email=email or None,
        customer_orders_count=int(orders_count) if orders_count is not None else None,
        source_name=node.get("sourceName"),
        shipping_country=(node.get("shippingAddress") or {}).get("countryCodeV2"),
        note_attributes={str(a.get("key")): str(a.get("value")) for a in node.get("customAttributes") or []},
        financial_status=status.lower() if isinstance(status, str) else None,
        line_items=items,
        created_at=node.get("createdAt"),
        origin="graphql",
    )
