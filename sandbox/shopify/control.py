"""ShopifySandbox: the store behind the fake Admin API, and the Python API tests drive it with."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import aiohttp
from aiohttp import web

from .access import ALL_SCOPES
from .app_lifecycle import OAuthApps
from .cost import LeakyBucket, plan_bucket
from .customer_data import Access, grant
from .deliveries import Deliveries
from .faults import Faults
from .oauth_store import OAuthApp, OAuthStore
from .orders import build_order, copy_draft_into_order
from .records import DraftOrder, Job, Product, ProductVariant, WebhookSubscription
from .resolvers import install
from .schema import SUPPORTED_API_VERSIONS, build_sandbox_schema
from .server import make_app
from .state import App, Customer, FulfillmentOrder, Hold, Ids, Order, Shop, money


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ShopifySandbox(OAuthApps):
    """An in-memory Shopify with the Admin GraphQL API over real HTTP (see `make_app`)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        bucket_size: float | None = None,
        restore_rate: float | None = None,
        *,
        now: Callable[[], datetime] = _utc_now,
        api_versions: Iterable[str] = SUPPORTED_API_VERSIONS,
        scopes: Iterable[str] = ALL_SCOPES,
        job_reads_until_done: int = 1,
        webhook_retry_scale: float = 1.0,
    ) -> None:
        self.clock = clock  # monotonic seconds, for the cost bucket
        self.now = now  # wall-clock time, for createdAt/updatedAt
        # None: each shop's bucket follows its plan (cost.PLANS); a number overrides every shop's (benchmarks).
        self.bucket_size, self.restore_rate = bucket_size, restore_rate
        self.api_versions = set(api_versions)
        self.scopes = frozenset(scopes)  # what a token is granted unless add_shop/add_access_token say otherwise
        self.grants: dict[tuple[str, str], frozenset[str]] = {}  # (shop, app) -> access scopes granted
        self.plans: dict[str, str] = {}  # shop -> Shopify plan
        self.job_reads_until_done = job_reads_until_done
        self.schema = install(build_sandbox_schema())
        self.ids = Ids()
        self.faults = Faults()
        self.shops: dict[str, Shop] = {}
        self.apps: dict[str, App] = {}
        self.orders: dict[str, Order] = {}
        self.fulfillment_orders: dict[str, FulfillmentOrder] = {}
        self.customers: dict[str, Customer] = {}
        self.products: dict[str, Product] = {}
        self.variants: dict[str, ProductVariant] = {}
        self.draft_orders: dict[str, DraftOrder] = {}
        self.jobs: dict[str, Job] = {}
        self.webhook_subscriptions: dict[str, WebhookSubscription] = {}
        self.calls: list[dict[str, Any]] = []
        self.mutations: list[tuple[str, str]] = []  # (root field, FO gid) of each successful hold/release
        # Webhooks: every delivery and its attempts (deliveries.py); 1.0 retries on Shopify's 4-hour schedule.
        self.deliveries = Deliveries(self, retry_scale=webhook_retry_scale)
        self.webhook_deliveries = self.deliveries.log
        self.customer_data: dict[str, Access] = {}  # app -> protected customer data approval (none by default)
        self._buckets: dict[tuple[str, str], LeakyBucket] = {}
        self._index: dict[str, tuple[Any, str, Order | None]] = {}  # gid -> (object, shop, FO-lag gate)
        self.prepared: dict[str, Any] = {}  # query text -> server.Prepared (document, errors, access needs)
        self._later: set[asyncio.Task[Any]] = set()  # routings scheduled by route_later
        # OAuth (oauth.py, oauth_store.py): apps by client id, every token request, access token deadlines.
        self.oauth = OAuthStore(self)
        self.oauth_apps: dict[str, OAuthApp] = self.oauth.apps
        self.token_requests: list[dict[str, Any]] = self.oauth.requests
        self.token_deadlines: dict[str, float] = self.oauth.deadlines
        # Called with each new order (ShipStation's import, sandbox/shipstation/state.py ShipStationSandbox.link).
        self.order_listeners: list[Callable[[Order], None]] = []

    # --- shops, apps and the cost bucket -------------------------------------------------
    def add_shop(self, domain: str, access_token: str, webhook_url: str | None = None,
                 webhook_secret: str = "whsec", *, currency: str = "USD", name: str = "", plan: str = "standard",
                 scopes: Iterable[str] | None = None, app: str | None = None) -> Shop:
        """Create a shop on `plan` reachable with `access_token`, a static token of `app` (default: an app named
        after the token); the shop's `webhook_url` shortcut delivers as that app."""
        plan_bucket(plan)  # an unknown plan fails here, not at the first request
        shop = Shop(domain, self.ids.next("Shop")[0], webhook_secret, webhook_url, currency, name)
        self.shops[domain], self.plans[domain] = shop, plan
        self.add_access_token(domain, access_token, app, scopes=scopes)
        self.register(shop, domain)
        return shop

    def add_access_token(self, domain: str, access_token: str, app: str | None = None, *,
                         scopes: Iterable[str] | None = None) -> None:
        """Let another app (default: named after its token), granted `scopes` (default: self.scopes), call the
        shop's API. A token carries the scopes the merchant granted its app at install."""
        self.shops[domain].tokens[access_token] = app or access_token
        self.grants[(domain, app or access_token)] = frozenset(self.scopes if scopes is None else scopes)

    def granted(self, domain: str, app: str) -> frozenset[str]:
        """The access scopes `app` holds on `domain`."""
        return self.grants.get((domain, app), frozenset())

    def app(self, name: str) -> App:
        """The App record for an app name (created on first use)."""
        if name not in self.apps:
            self.apps[name] = App(name, self.ids.next("App")[0])
        return self.apps[name]

    def bucket(self, domain: str, app: str) -> LeakyBucket:
        """The cost bucket of one app on one shop."""
        key = (domain, app)
        if key not in self._buckets:
            size, rate = plan_bucket(self.plans.get(domain, "standard"))
            size = size if self.bucket_size is None else self.bucket_size
            rate = rate if self.restore_rate is None else self.restore_rate
            self._buckets[key] = LeakyBucket(size, rate, size, self.clock())
        return self._buckets[key]

    # --- the id index --------------------------------------------------------------------
    def register(self, obj: Any, domain: str, gate: Order | None = None) -> None:
        """Make `obj` findable by gid within `domain` (hidden while `gate`'s FOs lag)."""
        self._index[obj.gid] = (obj, domain, gate)

    def unregister(self, gid: str) -> None:
        """Forget an object's gid (it was deleted)."""
        self._index.pop(gid, None)

    def lookup(self, gid: str, domain: str) -> tuple[Any, Order | None] | None:
        """(object, gate) for a gid owned by `domain`, or None."""
        found = self._index.get(gid)
        if found is None or found[1] != domain:
            return None
        return found[0], found[2]

    def register_fulfillment_order(self, fo: FulfillmentOrder) -> None:
        """Attach a (new) FO to its order and index it and its line items."""
        if fo not in fo.order.fulfillment_orders:
            fo.order.fulfillment_orders.append(fo)
        self.fulfillment_orders[fo.gid] = fo
        self.register(fo, fo.order.shop, fo.order)
        for line in fo.line_items:
            self.register(line, fo.order.shop, fo.order)

    # --- orders, customers, products -----------------------------------------------------
    def create_order(self, shop: str, **details: Any) -> Order:
        """Create an order (see `orders.build_order` for the keywords); delivers no webhook."""
        return self.announce(build_order(self, self.shops[shop], **details))

    def order_from_draft(self, draft: DraftOrder, now: datetime) -> Order:
        """The paid order a completed draft becomes."""
        return self.announce(copy_draft_into_order(self, draft, now))

    def announce(self, order: Order) -> Order:
        """Tell the order listeners about a new order."""
        for listener in self.order_listeners:
            listener(order)
        return order

    def order_by_name(self, shop: str, name: str) -> Order | None:
        """An order by its name ("#1001")."""
        return next((o for o in self.orders.values() if o.shop == shop and o.name == name), None)

    def find_customer(self, shop: str, email: str | None) -> Customer | None:
        """The shop's customer with this email (case-insensitive), if any."""
        if not email:
            return None
        return next((c for c in self.customers.values()
                     if c.shop == shop and (c.email or "").lower() == email.lower()), None)

    def add_product(self, shop: str, title: str, *, vendor: str = "", product_type: str = "",
                    tags: Iterable[str] = (), variants: Iterable[dict[str, Any]] = ({},)) -> Product:
        """Create a product; each variant dict may give title, sku, price, inventory_quantity."""
        legacy, gid = self.ids.next("Product")
        product = Product(gid, legacy, shop, title, vendor, product_type, list(tags))
        for spec in variants:
            v_legacy, v_gid = self.ids.next("ProductVariant")
            variant = ProductVariant(v_gid, v_legacy, product, spec.get("title", "Default Title"), spec.get("sku"),
                                     money(spec.get("price", "0.00")), int(spec.get("inventory_quantity", 0)),
                                     self.now(), self.now())
            product.variants.append(variant)
            self.variants[v_gid] = variant
            self.register(variant, shop)
        self.products[gid] = product
        self.register(product, shop)
        return product

    # --- holds ----------------------------------------------------------------------------
    def add_hold(self, fo: FulfillmentOrder, hold: Hold, now: datetime) -> None:
        """Put `hold` on `fo` (status ON_HOLD)."""
        fo.holds.append(hold)
        fo.status = "ON_HOLD"
        fo.updated_at = fo.order.updated_at = now
        self.register(hold, fo.order.shop, fo.order)

    def release_holds(self, fo: FulfillmentOrder, hold_ids: set[str], now: datetime) -> None:
        """Remove the given holds; the FO reopens when none remain."""
        for hold in [h for h in fo.holds if h.gid in hold_ids]:
            fo.holds.remove(hold)
            self.unregister(hold.gid)
        if not fo.holds and fo.status == "ON_HOLD":
            fo.status = "OPEN"
        fo.updated_at = fo.order.updated_at = now

    def add_foreign_hold(self, fo_gid: str, handle: str = "other-app", app: str = "other-app",
                         reason: str = "OTHER", reason_notes: str | None = None) -> Hold:
        """A hold placed by another app (not through the API under test)."""
        fo = self.fulfillment_orders[fo_gid]
        hold = Hold(self.ids.next("FulfillmentHold")[1], handle, app, reason, reason_notes)
        self.add_hold(fo, hold, self.now())
        return hold

    def record_mutation(self, root_field: str, fo_gid: str) -> None:
        """Note one successful hold/release on a fulfillment order."""
        self.mutations.append((root_field, fo_gid))

    def hold_calls(self, fo_gid: str) -> int:
        """How many fulfillmentOrderHold calls succeeded on this FO."""
        return Counter(self.mutations)[("fulfillmentOrderHold", fo_gid)]

    def release_calls(self, fo_gid: str) -> int:
        """How many fulfillmentOrderReleaseHold calls succeeded on this FO."""
        return Counter(self.mutations)[("fulfillmentOrderReleaseHold", fo_gid)]

    # --- fulfillment orders that open late ------------------------------------------------
    async def route(self, order: Order, *, session: aiohttp.ClientSession | None = None) -> list[int]:
        """Finish routing `order`: its FOs appear in the API, and each is announced with
        fulfillment_orders/order_routing_complete (https://shopify.dev/docs/api/webhooks/latest: "Occurs when an
        order has finished being routed and it's fulfillment orders assigned to a fulfillment service's
        location"). The body names the fulfillment order only, like the other fulfillment_orders/* topics
        (../shared/shopify/webhooks/fulfillment_orders_hold_released.*.json); returns the deliveries' statuses."""
        order.fo_routed = True
        return await self._announce(order, "fulfillment_orders/order_routing_complete", order.fulfillment_orders,
                                    session)

    def route_later(self, order: Order, delay_s: float) -> asyncio.Task[list[int]]:
        """Route `order` after `delay_s` seconds (Shopify takes from moments to minutes), in the background."""
        order.fo_routed = False

        async def later() -> list[int]:
            await asyncio.sleep(delay_s)
            return await self.route(order)

        task = asyncio.create_task(later(), name=f"shopify-sandbox-route-{order.legacy_id}")
        self._later.add(task)
        task.add_done_callback(self._later.discard)
        return task

    async def open_scheduled(self, order: Order, *, session: aiohttp.ClientSession | None = None) -> list[int]:
        """A SCHEDULED FO "will be ready for fulfillment after the date and time specified in fulfill_at"
        (FulfillmentOrderStatus, https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentOrderStatus):
        open them now and send fulfillment_orders/scheduled_fulfillment_order_ready ("Occurs whenever a
        fulfillment order which was scheduled becomes due", https://shopify.dev/docs/api/webhooks/latest)."""
        opened = [fo for fo in order.fulfillment_orders if fo.status == "SCHEDULED"]
        for fo in opened:
            fo.status, fo.updated_at = "OPEN", self.now()
        order.updated_at = self.now()
        return await self._announce(order, "fulfillment_orders/scheduled_fulfillment_order_ready", opened, session)

    async def _announce(self, order: Order, topic: str, fos: list[FulfillmentOrder],
                        session: aiohttp.ClientSession | None) -> list[int]:
        statuses = []
        for fo in fos:
            try:
                statuses.append(await self.deliver_webhook(order.shop, topic, {"fulfillment_order": {
                    "id": fo.gid, "status": fo.status.lower()}}, session=session))
            except ValueError:  # nobody subscribed to the topic: Shopify sends nothing
                return []
        return statuses

    def cancel_order(self, order: Order, reason: str, refund: bool, now: datetime) -> None:
        """What a finished orderCancel job does to the order."""
        order.cancelled_at, order.cancel_reason, order.updated_at = now, reason, now
        if order.financial_status in ("PENDING", "AUTHORIZED"):
            order.financial_status = "VOIDED"
        elif refund and order.financial_status in ("PAID", "PARTIALLY_PAID"):
            order.financial_status = "REFUNDED"
        for fo in order.fulfillment_orders:
            fo.status, fo.updated_at = "CLOSED", now

    # --- HTTP -----------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        """The aiohttp application serving POST /{shop}/admin/api/{version}/graphql.json."""
        return make_app(self)

    async def deliver_webhook(self, shop: str, topic: str, body: Any, *, url: str | None = None,
                              session: aiohttp.ClientSession | None = None, **options: Any) -> int:
        """Send a signed webhook to `url`, the shop's webhook_url, or its subscription; the first attempt's HTTP
        status. A failure is retried in the background, as Shopify does (see deliveries.py)."""
        return await self.deliveries.deliver(shop, topic, body, url=url, session=session, **options)

    def declare_webhook(self, app: str, topic: str, uri: str, api_version: str = "") -> WebhookSubscription:
        """An app-scoped subscription from the app's configuration (never listed by webhookSubscriptions)."""
        return self.deliveries.declare(app, topic, uri, api_version)

    # --- protected customer data -----------------------------------------------------------------------------
    def grant_customer_data(self, app: str, *, level1: bool = True,
                            fields: Iterable[str] = ("name", "email", "phone", "address")) -> None:
        """Approve `app` for protected customer data (level 1) and the level-2 `fields` (customer_data.py)."""
        self.customer_data[app] = grant(level1, set(fields))

    def customer_data_for(self, app: str) -> Access:
        """What protected customer data `app` may read (nothing unless granted)."""
        return self.customer_data.get(app, Access())

    async def close(self) -> None:
        """Cancel the sandbox's background work (webhook retries, scheduled routings) and close its HTTP session."""
        later = list(self._later)
        for task in later:
            task.cancel()
        await asyncio.gather(*later, return_exceptions=True)
        await self.deliveries.close()
