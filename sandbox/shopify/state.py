"""The sandbox's in-memory data model: shops, orders, fulfillment orders, holds and friends."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .rest import hold_released_body, order_to_rest, placed_on_hold_body

if TYPE_CHECKING:
    from .records import ProductVariant

# Shopify's own limit: an app can hold a fulfillment order at most 10 times at once.
MAX_HOLDS_PER_APP = 10
HOLDABLE_STATUSES = ("OPEN", "ON_HOLD")


def gid(kind: str, legacy_id: int) -> str:
    """Shopify's global id for a resource."""
    return f"gid://shopify/{kind}/{legacy_id}"


def money(amount: Decimal | str | int) -> Decimal:
    """A money amount rounded to cents, the way Shopify stores them."""
    return Decimal(str(amount)).quantize(Decimal("0.01"))


def merge_tags(existing: list[str], added: list[str]) -> list[str]:
    """Add tags like Shopify: trimmed, comma-split, deduplicated case-insensitively."""
    result = list(existing)
    seen = {t.lower() for t in result}
    for raw in added:
        for tag in (part.strip() for part in raw.split(",")):
            if tag and tag.lower() not in seen:
                seen.add(tag.lower())
                result.append(tag)
    return result


def remove_tags(existing: list[str], removed: list[str]) -> list[str]:
    """Remove tags case-insensitively (comma-separated entries count as several)."""
    drop = {part.strip().lower() for raw in removed for part in raw.split(",")}
    return [t for t in existing if t.lower() not in drop]


@dataclass
class Shop:
    domain: str
    legacy_id: int
    webhook_secret: str
    webhook_url: str | None = None
    currency: str = "USD"
    name: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> app name
    next_order_number: int = 1001
    next_draft_number: int = 1

    @property
    def gid(self) -> str:
        return gid("Shop", self.legacy_id)


@dataclass
class App:
    name: str
    legacy_id: int

    @property
    def gid(self) -> str:
        return gid("App", self.legacy_id)


@dataclass
class Customer:
    gid: str
    legacy_id: int
    shop: str
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    tags: list[str] = field(default_factory=list)
    orders_count: int = 0
    note: str | None = None
    created_at: datetime | None = None

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.email or ""


@dataclass
class Address:
    gid: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    zip: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass
class LineItem:
    gid: str
    legacy_id: int
    title: str
    quantity: int
    price: Decimal
    sku: str | None = None
    vendor: str | None = None
    variant: ProductVariant | None = None
    variant_title: str | None = None
    requires_shipping: bool = True
    properties: list[tuple[str, str]] = field(default_factory=list)
    total_discount: Decimal = Decimal("0.00")
    currency: str = "USD"

    @property
    def name(self) -> str:
        return f"{self.title} - {self.variant_title}" if self.variant_title else self.title


@dataclass
class FulfillmentOrderLineItem:
    gid: str
    line_item: LineItem
    total_quantity: int
    remaining_quantity: int


@dataclass
class Hold:
    gid: str
    handle: str
    app: str
    reason: str = "OTHER"
    reason_notes: str | None = None
    external_id: str | None = None


@dataclass
class FulfillmentOrder:
    gid: str
    order: Order
    created_at: datetime
    updated_at: datetime
    line_items: list[FulfillmentOrderLineItem] = field(default_factory=list)
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    holds: list[Hold] = field(default_factory=list)
    fulfill_at: datetime | None = None  # a SCHEDULED FO opens then (prepaid subscriptions, pre-orders)

    def placed_on_hold_webhook_body(self, hold: Hold, app: str | None = None) -> dict[str, Any]:
        """The fulfillment_orders/placed_on_hold webhook body for `hold` (as seen by `app`)."""
        return placed_on_hold_body(self, hold, app)

    def hold_released_webhook_body(self) -> dict[str, Any]:
        """The fulfillment_orders/hold_released webhook body."""
        return hold_released_body(self)


@dataclass
class Order:
    gid: str
    legacy_id: int
    shop: str
    number: int
    created_at: datetime
    updated_at: datetime
    currency: str = "USD"
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    po_number: str | None = None
    tags: list[str] = field(default_factory=list)
    source_name: str | None = "web"
    financial_status: str = "PAID"
    line_items: list[LineItem] = field(default_factory=list)
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    customer: Customer | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    discount_codes: list[dict[str, str]] = field(default_factory=list)
    total_discounts: Decimal = Decimal("0.00")
    shipping_price: Decimal = Decimal("0.00")
    total_tax: Decimal = Decimal("0.00")
    note_attributes: list[tuple[str, str]] = field(default_factory=list)
    metafields: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (namespace, key) -> metafield
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    risk_level: str = "LOW"
    risk_recommendation: str = "ACCEPT"
    test: bool = False
    user_id: int | None = None
    company: str | None = None  # B2B: the purchasing company's name (GraphQL Order.purchasingEntity)
    company_location: str | None = None  # B2B: the company's location it was bought for (default: its name)
    payment_terms: dict[str, Any] | None = None  # {"name", "type", "due_in_days"} from a PaymentTermsTemplate
    # FOs stay invisible to the API for this many GraphQL reads of the order (Shopify's lag).
    fo_visible_after: int = 0
    reads: int = 0
    # Shopify routes an order's FOs asynchronously and says so with fulfillment_orders/order_routing_complete
    # (https://shopify.dev/docs/api/webhooks/latest, topic FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE): until the
    # sandbox routes the order (ShopifySandbox.route), the API shows it without fulfillment orders.
    fo_routed: bool = True

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def line_items_total(self) -> Decimal:
        return money(sum((li.price * li.quantity for li in self.line_items), Decimal(0)))

    @property
    def subtotal(self) -> Decimal:
        return money(self.line_items_total - self.total_discounts)

    @property
    def total(self) -> Decimal:
        return money(self.subtotal + self.shipping_price + self.total_tax)

    def fulfillment_status(self) -> str:
        """OrderDisplayFulfillmentStatus derived from the fulfillment orders."""
        statuses = {fo.status for fo in self.fulfillment_orders}
        if self.cancelled_at is None and statuses and statuses <= {"CLOSED"}:
            return "FULFILLED"
        if "ON_HOLD" in statuses and not statuses & {"OPEN", "IN_PROGRESS", "SCHEDULED"}:
            return "ON_HOLD"
        return "UNFULFILLED"

    def webhook_body(self) -> dict[str, Any]:
        """The order as Shopify's orders/create webhook (REST shape) carries it."""
        return order_to_rest(self)


class Ids:
    """Hands out increasing legacy ids shared by every resource kind (unique across shops)."""

    def __init__(self, start: int = 5_000_000_001) -> None:
        self._counter = itertools.count(start)

    def next(self, kind: str) -> tuple[int, str]:
        """A fresh (legacy id, gid) pair for a resource of this kind."""
        legacy = next(self._counter)
        return legacy, gid(kind, legacy)
