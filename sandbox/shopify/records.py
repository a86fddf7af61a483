"""Sandbox records beyond orders: products and variants, draft orders, jobs, webhook subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .state import money

if TYPE_CHECKING:
    from .state import Address, Customer, LineItem, Order


@dataclass
class Product:
    gid: str
    legacy_id: int
    shop: str
    title: str
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    status: str = "ACTIVE"
    variants: list[ProductVariant] = field(default_factory=list)

    @property
    def handle(self) -> str:
        return "-".join(self.title.lower().split())


@dataclass
class ProductVariant:
    gid: str
    legacy_id: int
    product: Product
    title: str
    sku: str | None
    price: Decimal
    inventory_quantity: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return f"{self.product.title} - {self.title}"


@dataclass
class DraftOrder:
    gid: str
    legacy_id: int
    shop: str
    number: int
    created_at: datetime
    updated_at: datetime
    line_items: list[LineItem]
    currency: str = "USD"
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    po_number: str | None = None
    source_name: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_attributes: list[tuple[str, str]] = field(default_factory=list)
    discount_codes: list[str] = field(default_factory=list)
    applied_discount: dict[str, Any] | None = None
    shipping_address: Address | None = None
    customer: Customer | None = None
    status: str = "OPEN"
    payment_terms: str | None = None  # a PaymentTermsTemplate gid: completed orders stay unpaid
    completed_at: datetime | None = None
    order: Order | None = None

    @property
    def name(self) -> str:
        return f"#D{self.number}"

    @property
    def line_items_total(self) -> Decimal:
        return money(sum((li.price * li.quantity for li in self.line_items), Decimal(0)))

    @property
    def discount_total(self) -> Decimal:
        d = self.applied_discount
        if not d:
            return Decimal("0.00")
        if d["valueType"] == "PERCENTAGE":
            return money(self.line_items_total * Decimal(str(d["value"])) / 100)
        return min(money(d["value"]), self.line_items_total)

    @property
    def total(self) -> Decimal:
        return money(self.line_items_total - self.discount_total)


@dataclass
class Job:
    gid: str
    shop: str
    reads_until_done: int
    on_done: Callable[[], None]  # applied once, when the job finishes
    target: str | None = None  # gid of the resource the job works on
    reads: int = 0
    done: bool = False


@dataclass
class WebhookSubscription:
    """A webhook subscription. Shopify keeps two kinds apart
    (https://shopify.dev/docs/apps/build/webhooks/subscribe#app-specific-vs-shop-specific-subscriptions):
    app-scoped ones, declared in the app's configuration (shopify.app.toml) for every shop the app is on, and
    shop-scoped ones, created through the API for one shop. Only the shop-scoped ones are listed by the
    `webhookSubscriptions` query, and only they are deleted after their deliveries keep failing."""

    gid: str
    legacy_id: int
    shop: str | None  # None: app-scoped (every shop the app is installed on)
    app: str
    topic: str
    callback_url: str
    created_at: datetime
    format: str = "JSON"
    filter: str | None = None
    include_fields: list[str] = field(default_factory=list)
    api_version: str = ""  # the version its bodies are serialised in (inherited from the app); "" = the default

    @property
    def app_scoped(self) -> bool:
        return self.shop is None
