"""ShipStationSandbox: the ShipStation accounts behind the fake V2 API, and the Python API tests drive it with.

Time comes from two injectable clocks, as in sandbox/shopify: `now()` (wall time: today's date for holds, their
automatic release, created_at) and `clock()` (monotonic seconds: the rate limit's window, the import delay).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sandbox.shopify.faults import Faults

from .imports import importable, shipment_from_order
from .ratelimit import PER_MINUTE, SlidingWindow, window_for
from .records import CANCELLED, LABEL_PURCHASED, ON_HOLD, PENDING, Account, Address, Shipment, Warehouse

if TYPE_CHECKING:
    from aiohttp import web

    from sandbox.shopify import ShopifySandbox
    from sandbox.shopify.state import Order

DEFAULT_WAREHOUSES = ("Main warehouse", "Samples room")  # the first is the account's default
IMPORT_DELAY_S = 3.0  # ShipStation imports a store's new orders on its own schedule, not at once


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class PendingImport:
    order: Order
    due: float | None  # on clock(); None: never imported


class ShipStationSandbox:
    """In-memory ShipStation accounts with the V2 API over real HTTP (see `make_app`)."""

    def __init__(self, *, now: Callable[[], datetime] = _utc_now, clock: Callable[[], float] = time.monotonic,
                 rate_scale: float = 1.0, rate_limit: int = PER_MINUTE,
                 import_delay_s: float | None = IMPORT_DELAY_S) -> None:
        self.now, self.clock = now, clock
        self.rate_limit, self.window_s = rate_limit, window_for(rate_scale)
        self.import_delay_s = import_delay_s  # for orders created from now on; 0: at once; None: never
        self.accounts: dict[str, Account] = {}  # shop domain -> account
        self.keys: dict[str, str] = {}  # API key -> shop domain
        self.shipments: dict[str, Shipment] = {}
        self.pending: list[PendingImport] = []
        self.faults = Faults()  # kinds "5xx", "timeout", "throttled" (429); root_field: a route such as "hold"
        self.calls: list[dict[str, Any]] = []  # every request: method, path, route, status, account, fault
        self.changes: list[dict[str, Any]] = []  # every state change: kind, shipment_id, account, detail
        self._limits: dict[str, SlidingWindow] = {}
        self._ids = itertools.count(100_000_001)

    # --- accounts ------------------------------------------------------------------------------------------
    def next_id(self) -> str:
        """A fresh ShipStation id ("se-…", the V2 API's prefix)."""
        return f"se-{next(self._ids)}"

    def add_account(self, shop: str, *, api_key: str, warehouses: Iterable[str] = DEFAULT_WAREHOUSES) -> Account:
        """An account for `shop`'s orders, reachable with `api_key`, with these warehouses (the first: default)."""
        account = Account(shop, api_key, self.next_id())
        for i, name in enumerate(warehouses):
            self.add_warehouse(account, name=name, default=i == 0)
        self.accounts[shop], self.keys[api_key] = account, shop
        return account

    def add_warehouse(self, account: Account, *, name: str, default: bool = False) -> Warehouse:
        wid = self.next_id()
        address = Address(name=name, company_name=account.shop.split(".")[0], phone="555-555-0100",
                          address_line1=f"{len(account.warehouses) + 1} Depot Road", city_locality="Austin",
                          state_province="TX", postal_code="78701")
        account.warehouses[wid] = Warehouse(wid, name, default, self.now(), address)
        return account.warehouses[wid]

    def account_for_key(self, api_key: str | None) -> Account | None:
        shop = self.keys.get(api_key or "")
        return self.accounts.get(shop) if shop else None

    def limiter(self, shop: str) -> SlidingWindow:
        """The account's request window (per account: https://docs.shipstation.com/rate-limits)."""
        if shop not in self._limits:
            self._limits[shop] = SlidingWindow(self.rate_limit, self.window_s)
        return self._limits[shop]

    # --- importing the Shopify store's orders ----------------------------------------------------------------
    def link(self, shopify: ShopifySandbox) -> None:
        """Import the orders created in `shopify` from now on into the account of their shop, if it has one."""
        shopify.order_listeners.append(self.order_created)

    def order_created(self, order: Order) -> None:
        if order.shop in self.accounts and importable(order):
            delay = self.import_delay_s
            self.pending.append(PendingImport(order, None if delay is None else self.clock() + delay))
            self.sync()

    def set_import_delay(self, seconds: float | None) -> None:
        """The delay for orders created from now on, and for those still waiting (from now)."""
        self.import_delay_s = seconds
        for p in self.pending:
            p.due = None if seconds is None else self.clock() + seconds
        self.sync()

    def today(self) -> date:
        # "later than today": the docs do not say in which time zone; UTC (https://docs.shipstation.com/hold-and-
        # restore-shipments). A merchant west of UTC sees "tomorrow" refused in their evening: the harsher reading.
        return self.now().astimezone(UTC).date()

    def sync(self) -> None:
        """Bring the accounts up to date: import what is due; release holds whose date has come."""
        tick = self.clock()
        due = [p for p in self.pending if p.due is not None and p.due <= tick]
        for p in due:
            self.pending.remove(p)
            shipment = shipment_from_order(self, self.accounts[p.order.shop], p.order)
            self.shipments[shipment.shipment_id] = shipment
            self.record("import", shipment, order=p.order.name)
        today = self.today()
        for s in self.shipments.values():
            # "On its hold_until_date, the shipment is released automatically: it returns to the pending status
            # and its hold_until_date is cleared" (https://docs.shipstation.com/hold-and-restore-shipments).
            if s.status == ON_HOLD and s.hold_until is not None and s.hold_until <= today:
                self.record("release", s, hold_until=s.hold_until.isoformat())
                s.status, s.hold_until, s.modified_at = PENDING, None, self.now()

    # --- records ------------------------------------------------------------------------------------------
    def record(self, kind: str, shipment: Shipment, **detail: Any) -> None:
        """Note a change (kinds: import, hold, restore, release, tag_add, tag_remove, warehouse, update, label,
        cancel) for tests: "held once", "never doubled"."""
        self.changes.append({"kind": kind, "shipment_id": shipment.shipment_id, "account": shipment.account,
                             "order": shipment.order_name, **detail})

    def count(self, kind: str, *, order: str | None = None, shipment_id: str | None = None) -> int:
        """How many `kind` changes (of one order's or one shipment's) were made."""
        return sum(1 for c in self.changes if c["kind"] == kind and (order is None or c["order"] == order)
                   and (shipment_id is None or c["shipment_id"] == shipment_id))

    # --- test controls ------------------------------------------------------------------------------------
    def shipments_for_order(self, shop: str, order_name: str) -> list[Shipment]:
        self.sync()
        return [s for s in self.shipments.values() if s.account == shop and s.order_name == order_name]

    def shipment_for_order(self, shop: str, order_name: str) -> Shipment | None:
        found = self.shipments_for_order(shop, order_name)
        return found[0] if found else None

    def buy_label(self, shipment_id: str) -> Shipment:
        """The warehouse buys a label (ShipStation's UI): from then on it cannot be held or changed."""
        self.sync()
        s = self.shipments[shipment_id]
        if s.status == ON_HOLD:  # "you can't purchase a label for it while it's on hold" (hold-and-restore page)
            raise ValueError(f"shipment {shipment_id} is on hold until {s.hold_until}: no label can be bought")
        if s.status in (LABEL_PURCHASED, CANCELLED):
            raise ValueError(f"shipment {shipment_id} is {s.status}: no label can be bought")
        s.status, s.label_id, s.modified_at = LABEL_PURCHASED, self.next_id(), self.now()
        self.record("label", s, label_id=s.label_id)
        return s

    def cancel(self, shipment_id: str) -> Shipment:
        """The merchant cancels the shipment in ShipStation."""
        s = self.shipments[shipment_id]
        s.status, s.hold_until, s.modified_at = CANCELLED, None, self.now()
        self.record("cancel", s)
        return s

    def make_app(self) -> web.Application:
        """The V2 API as an aiohttp app (sandbox/shipstation/server.py)."""
        from .server import make_app

        return make_app(self)
