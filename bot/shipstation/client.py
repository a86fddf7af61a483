"""The ShipStation V2 API (https://api.shipstation.com/v2/…) for one account, over the runtime's aiohttp session.

Every call spends a token of the account's bucket first (throttle.py, shared by every client of the account through
accounts.py); a wait longer than `max_wait_s` is not slept inside a job but raised as ShipStationRateLimited, so the
worker defers the job without spending a try. Failures are classified once, here (errors.py). The key is sent in the
`API-Key` header (https://docs.shipstation.com/tag-shipments shows `API-Key: __YOUR_API_KEY_HERE__`) and never
logged, nor shown by repr().
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.shipstation import model
from bot.shipstation.errors import ShipStationAuthError, ShipStationError, ShipStationRateLimited, ShipStationTransient
from bot.shipstation.model import Shipment, Warehouse
from bot.shipstation.throttle import Bucket

# Docs silent on a 429 without Retry-After: the harsher reading is to wait out a whole minute (the limit's window).
DEFAULT_RETRY_AFTER_S = 60.0
# Fields of a shipment the update refuses or ignores (https://docs.shipstation.com/shipments/update "Read-Only
# Fields": shipment_id, created_at, modified_at, shipment_status, tags, total_weight), plus the hold date, which only
# the hold endpoints set.
READ_ONLY = frozenset({"shipment_id", "created_at", "modified_at", "shipment_status", "tags", "total_weight",
                       "hold_until_date"})
LIST_PAGE_SIZE = 100
LIST_PAGES = 2  # how far back find_for_order reads the newest shipments when the external id does not match


class Budget:
    """One account's bucket, shared by its clients; the lock makes concurrent jobs take tokens one at a time."""

    def __init__(self, bucket: Bucket | None = None, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.bucket = bucket or Bucket(at=clock())
        self.lock = asyncio.Lock()

    async def spend(self, *, max_wait_s: float) -> None:
        """Wait for a token (up to max_wait_s), else raise ShipStationRateLimited with the wait left."""
        async with self.lock:
            wait = self.bucket.wait_for(self.clock())
            if wait > max_wait_s:
                raise ShipStationRateLimited("holdfast's own ShipStation request budget is spent for now "
                                             f"(under 200 a minute): waiting {wait:.0f}s", retry_after_s=wait, status=0)
            if wait > 0:
                await asyncio.sleep(wait)
            self.bucket = self.bucket.take(self.clock())

    def pause(self, seconds: float) -> None:
        """ShipStation answered 429: no request of this account goes before `seconds` from now."""
        self.bucket = self.bucket.pause(self.clock(), seconds)


def retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (ShipStation sends seconds); missing or unreadable → a whole minute."""
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S  # an HTTP-date, which ShipStation does not document sending


def first_error(body: Any) -> tuple[str | None, str | None, str | None]:
    """(error_code, message, request_id) of ShipStation's error body; Nones when the body is not that shape."""
    if not isinstance(body, dict):
        return None, None, None
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return first.get("error_code"), first.get("message"), body.get("request_id")


def classify(*, status: int, body: Any, retry_after_header: str | None, what: str) -> Exception | None:
    """The exception an answer means (None: a success): 429 rate limited, 5xx transient, 401/403 the key, other 4xx
    refused with ShipStation's error_code and message."""
    if status < 400:
        return None
    code, message, request_id = first_error(body)
    said = f": {message}" if message else ""
    if status == 429:
        wait = retry_after(retry_after_header)
        return ShipStationRateLimited(f"ShipStation rate limit (429) on {what}; retry after {wait:.0f}s",
                                      retry_after_s=wait, code=code, request_id=request_id)
    if status >= 500:
        return ShipStationTransient(f"ShipStation answered {status} to {what}{said}", status=status, code=code,
                                    request_id=request_id)
    if status in (401, 403):
        return ShipStationAuthError(f"ShipStation refused the API key ({status}) on {what}{said}", status=status,
                                    code=code, request_id=request_id)
    return ShipStationError(message or f"ShipStation answered {status} to {what}", status=status, code=code,
                            request_id=request_id)


class ShipStationClient:
    """One ShipStation account. `session` is the runtime's shared aiohttp session; `budget` the account's bucket."""

    def __init__(self, base_url: str, api_key: str, session: aiohttp.ClientSession, *, budget: Budget | None = None,
                 timeout_s: float = 10.0, max_wait_s: float = 5.0):
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._session = session
        self._budget = budget or Budget()
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_wait_s = max_wait_s

    def __repr__(self) -> str:
        return f"ShipStationClient({self._base!r}, api_key=<hidden>)"

    async def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                    missing_ok: bool = False) -> Any:
        """One request; the parsed JSON (None for an empty body, or a 404 when missing_ok)."""
        what = f"{method} {path}"
        await self._budget.spend(max_wait_s=self._max_wait_s)
        headers = {"API-Key": self._key, "Accept": "application/json"}
        try:
            async with self._session.request(method, self._base + path, json=json, params=params, headers=headers,
                                             timeout=self._timeout) as resp:
                text = await resp.text()
                status, wait = resp.status, resp.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ShipStationTransient(f"ShipStation did not answer {what}: {type(exc).__name__}") from None
        try:
            body = jsonlib.loads(text) if text.strip() else None
        except ValueError:
            body = None
        if status == 404 and missing_ok:
            return None
        problem = classify(status=status, body=body, retry_after_header=wait, what=what)
        if isinstance(problem, ShipStationRateLimited):
            self._budget.pause(problem.retry_after_s)
        if problem is not None:
            raise problem
        return body

    @staticmethod
    def _path_id(value: str) -> str:
        return quote(str(value), safe="")

    async def get(self, shipment_id: str) -> Shipment:
        """GET /v2/shipments/{shipment_id} (https://docs.shipstation.com/list-shipments "Get shipment by ID")."""
        return model.shipment(await self._call("GET", f"/v2/shipments/{self._path_id(shipment_id)}"))

    async def find_for_order(self, order_name: str, order_legacy_id: str) -> list[Shipment]:
        """The shipments ShipStation imported for a Shopify order, newest first; [] while it has not imported it.

        First by external_shipment_id, V1's orderKey (https://docs.shipstation.com/orders/external-identifiers),
        which for an imported order is the store's own key: the Shopify order id. GET …/external_shipment_id/{id}
        (https://docs.shipstation.com/apis/openapi/shipments/get_shipment_by_external_id). The docs do not say what
        key a Shopify import uses, so (the harsher reading) the newest shipments are also read, a bounded number of
        pages, for a shipment_number that is the order's name ("#1001" or "1001", V1's orderNumber,
        https://docs.shipstation.com/orders/shipment-numbers): the list has no shipment_number filter
        (https://docs.shipstation.com/list-shipments)."""
        found: dict[str, Shipment] = {}
        raw = await self._call("GET", f"/v2/shipments/external_shipment_id/{self._path_id(order_legacy_id)}",
                               missing_ok=True)
        if isinstance(raw, dict) and raw.get("shipment_id"):
            hit = model.shipment(raw)
            found[hit.shipment_id] = hit
            return list(found.values())  # the store's own key: nothing more to read
        numbers = model.order_numbers(order_name)
        for page in range(1, LIST_PAGES + 1):
            body = await self._call("GET", "/v2/shipments", params={
                "sort_by": "created_at", "sort_dir": "desc", "page": page, "page_size": LIST_PAGE_SIZE})
            items = (body or {}).get("shipments") or []
            for item in items:
                shipment = model.shipment(item)
                if shipment.shipment_number in numbers or shipment.external_shipment_id == order_legacy_id:
                    found.setdefault(shipment.shipment_id, shipment)
            if found or len(items) < LIST_PAGE_SIZE or page >= int((body or {}).get("pages") or page):
                break
        return list(found.values())

    async def _after(self, body: Any, shipment_id: str) -> Shipment:
        # The docs do not show what hold/restore answer; a body that is not the shipment is read back with a GET.
        if isinstance(body, dict) and body.get("shipment_id") == shipment_id and "shipment_status" in body:
            return model.shipment(body)
        return await self.get(shipment_id)

    async def hold(self, shipment_id: str, until: date) -> Shipment:
        """PUT /v2/shipments/{id}/hold {"hold_until_date": "YYYY-MM-DD"}: date-only, later than today, a second hold
        replaces the date; a cancelled or labelled shipment → 400 (https://docs.shipstation.com/hold-and-restore-shipments,
        https://docs.shipstation.com/apis/openapi/shipments/hold_shipment)."""
        sid = self._path_id(shipment_id)
        body = await self._call("PUT", f"/v2/shipments/{sid}/hold", json={"hold_until_date": until.isoformat()})
        return await self._after(body, shipment_id)

    async def restore(self, shipment_id: str) -> Shipment:
        """Restore from hold: back to pending; a shipment not on hold → 400 (hold-and-restore-shipments).

        The page names the operation but the stored copy of the docs did not show its path: PUT
        /v2/shipments/{id}/restore, beside …/hold, is assumed (RESTORE_PATH), to be checked against the docs."""
        body = await self._call("PUT", RESTORE_PATH.format(shipment_id=self._path_id(shipment_id)))
        return await self._after(body, shipment_id)

    async def add_tag(self, shipment_id: str, tag: str) -> None:
        """POST /v2/shipments/{id}/tags/{tag_name}: a tag that does not exist yet is created
        (https://docs.shipstation.com/tag-shipments)."""
        await self._call("POST", f"/v2/shipments/{self._path_id(shipment_id)}/tags/{self._path_id(tag)}")

    async def remove_tag(self, shipment_id: str, tag: str) -> None:
        """DELETE /v2/shipments/{id}/tags/{tag_name} → 204
        (https://docs.shipstation.com/apis/shipengine/docs/reference/remove-tag-from-shipment)."""
        await self._call("DELETE", f"/v2/shipments/{self._path_id(shipment_id)}/tags/{self._path_id(tag)}")

    async def set_warehouse(self, shipment_id: str, warehouse_id: str) -> Shipment:
        """Ship from another warehouse: PUT /v2/shipments/{id} (https://docs.shipstation.com/shipments/update).

        The V2 page says every field is optional; the older page says the update needs ship_to and either ship_from
        or warehouse_id, and a PUT may replace the whole shipment
        (https://docs.shipstation.com/apis/shipengine/docs/reference/update-shipment). Harsher reading: send the
        shipment as read, without its read-only fields and its ship_from (the warehouse replaces it), with the new
        warehouse_id. Before a label is bought only: ShipStation refuses after (ShipStationError)."""
        sid = self._path_id(shipment_id)
        current = await self._call("GET", f"/v2/shipments/{sid}")
        body = {k: v for k, v in (current or {}).items() if k not in READ_ONLY and k != "ship_from"}
        body["warehouse_id"] = warehouse_id
        answer = await self._call("PUT", f"/v2/shipments/{sid}", json=body)
        return await self._after(answer, shipment_id)

    async def warehouses(self) -> list[Warehouse]:
        """GET /v2/warehouses → {"warehouses": [{"warehouse_id", "name", …}]}
        (https://docs.shipstation.com/apis/shipengine/docs/reference/list-warehouses)."""
        body = await self._call("GET", "/v2/warehouses")
        return [model.warehouse(w) for w in (body or {}).get("warehouses") or [] if w.get("warehouse_id")]

    async def tags(self) -> list[str]:
        """GET /v2/tags → {"tags": [{"name"}]} (https://docs.shipstation.com/apis/openapi/tags)."""
        body = await self._call("GET", "/v2/tags")
        return [str(t["name"]) if isinstance(t, dict) else str(t) for t in (body or {}).get("tags") or []
                if (t.get("name") if isinstance(t, dict) else t)]


RESTORE_PATH = "/v2/shipments/{shipment_id}/restore"
