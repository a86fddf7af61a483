"""Async Admin GraphQL client: one per shop, cost-aware throttling, retries on 5xx/THROTTLED/timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot import metrics
from bot.shopify.errors import ShopifyAuthError, ShopifyError, ShopifyTransientError, ShopUninstalled
from bot.shopify.throttle import Bucket, backoff, from_extensions, requested_cost
from bot.shopify.token_source import LoadedToken, StaticToken, TokenSource
from bot.shopify.versions import HEADER as VERSION_HEADER
from bot.shopify.versions import VersionWatch

__all__ = [
    "Result",
    "ShopUninstalled",
    "ShopifyAuthError",
    "ShopifyClient",
    "ShopifyClients",
    "ShopifyError",
    "ShopifyTransientError",
    "StaticToken",
    "TokenSource",
]

log = logging.getLogger(__name__)
DEFAULT_COST = 10.0  # a mutation's price; queries report theirs after the first call
BACKGROUND_HEADROOM = 0.2  # share of the bucket a background read leaves for holds and releases
MAX_RENEWALS = 3  # 401s answered with a new token within one call, before it counts as refused


@dataclass
class Result:
    """A GraphQL reply: `data`, the first root field's `userErrors`, and what it cost."""

    data: dict[str, Any]
    extensions: dict[str, Any] = field(default_factory=dict)

    def root(self, name: str) -> dict[str, Any]:
        """The payload of root field `name` (never None)."""
        return self.data.get(name) or {}

    def user_errors(self, name: str) -> list[dict[str, Any]]:
        """The userErrors of root field `name`."""
        return self.root(name).get("userErrors") or []


class ShopifyClient:
    """Talks to one shop's Admin GraphQL endpoint."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        shop: str,
        url: str,
        token: str | None = None,
        tokens: TokenSource | None = None,
        timeout_s: float = 10.0,
        max_tries: int = 5,
        clock: Callable[[], float] = time.monotonic,
        versions: VersionWatch | None = None,
    ):
        self.shop = shop
        self._versions = versions  # warns when a reply names another API version than the pinned one
        self._session = session
        self._tokens = tokens if tokens is not None else StaticToken(token or "")
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_tries = max_tries
        self._clock = clock
        self._bucket: Bucket | None = None
        self._costs: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._learned = asyncio.Event()
        self._replied = asyncio.Event()
        self._learning: dict[str, asyncio.Event] = {}  # operation name -> set once its cost is known
        self._probing = False
        self._inflight = 0.0  # points reserved by requests whose reply has not arrived yet
        self.throttled_replies = 0

    async def _reserve(self, cost: float, *, background: bool = False) -> None:
        # Until Shopify has told us the bucket's size, one request goes alone (no blind burst).
        if self._bucket is None:
            if not self._probing:
                self._probing = True
                self._inflight += cost
                return
            await self._learned.wait()
            if self._bucket is None:  # the first request failed without a reading: go on unpaced
                self._inflight += cost
                return
        if background:
            await self._lull(cost)
        # Serialised so concurrent callers queue for the bucket instead of all being THROTTLED.
        async with self._lock:
            while True:
                assert self._bucket is not None
                wait = self._bucket.wait_for(cost, self._clock())
                if wait <= 0:
                    break
                # Shopify reserves a query's requested cost but refunds the unused part with the reply, often
                # most of it: a reply landing while we wait can make the points available sooner, so look again.
                self._replied.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._replied.wait(), timeout=wait)
            self._bucket = self._bucket.spend(cost, self._clock())
            self._inflight += cost

    async def _lull(self, cost: float) -> None:
        # Background reads (reconciliation: ~750 points a page) wait outside the queue until the bucket could pay
        # them and still keep a fifth free, so a hold or release never queues behind them; they go in a lull.
        while self._bucket is not None:
            wait = self._bucket.wait_for(min(cost + BACKGROUND_HEADROOM * self._bucket.maximum, self._bucket.maximum),
                                         self._clock())
            if wait <= 0:
                return
            self._replied.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._replied.wait(), timeout=wait)

    def _observe(self, extensions: dict[str, Any], cost: float) -> Bucket | None:
        """Take Shopify's reading of the bucket, less what our other in-flight requests will still spend."""
        self._inflight = max(0.0, self._inflight - cost)
        now = self._clock()
        bucket = from_extensions(extensions, now)
        if bucket:
            self._bucket = bucket.spend(self._inflight, now)
            self._replied.set()
        self._learned.set()
        return bucket

    async def _post(self, body: dict[str, Any], token: str) -> tuple[int, Any]:
        headers = {"X-Shopify-Access-Token": token, "Content-Type": "application/json"}
        async with self._session.post(self._url, json=body, headers=headers, timeout=self._timeout) as resp:
            if self._versions is not None:
                self._versions.see(resp.headers.get(VERSION_HEADER), self.shop)
            text = await resp.text()
            try:
                return resp.status, json.loads(text) if text else None
            except json.JSONDecodeError:
                return resp.status, None

    async def execute(self, document: str, variables: dict[str, Any], *, name: str, retry_unknown: bool = True,
                      background: bool = False) -> Result:
        """Run one operation; waits for the bucket, retries transient failures, raises ShopifyError.

        `background=True` (reconciliation, upkeep) lets everything else go first: it waits for a lull.
        With `retry_unknown=False` (a mutation that is not idempotent) a 5xx or timeout, after which Shopify
        may or may not have acted, is raised at once: the job looks before it tries again.
        """
        probe = await self._cost_known(name)
        try:
            return await self._attempts(document, variables, name=name, retry_unknown=retry_unknown,
                                        background=background)
        finally:
            if probe is not None and self._learning.get(name) is probe:
                del self._learning[name]
                probe.set()  # no reading came back: the others go on with the default estimate

    async def _cost_known(self, name: str) -> asyncio.Event | None:
        """Wait until `name`'s cost is known; returns an Event when this caller is the one to learn it."""
        # An operation's price is known only from Shopify's first reply to it (a read may request 200 points
        # where a mutation requests 10). Until then one request of that name goes alone, so a burst of new
        # reads is not admitted at a guessed price and answered THROTTLED.
        while name not in self._costs:
            learning = self._learning.get(name)
            if learning is None:
                learning = self._learning[name] = asyncio.Event()
                return learning
            await learning.wait()
            if name not in self._costs:
                return None
        return None

    async def _attempts(self, document: str, variables: dict[str, Any], *, name: str, retry_unknown: bool,
                        background: bool) -> Result:
        last = "no attempt"
        await self._tokens.get(self.shop)  # raises ShopUninstalled before any call for an uninstalled shop
        fresh: str | None = None  # the token fresh() gave after a 401
        renewals = attempt = 0
        while attempt < self._max_tries:
            attempt += 1
            cost = self._costs.get(name, DEFAULT_COST)
            await self._reserve(cost, background=background)
            # Taken after the bucket wait, which may outlast a short-lived token (a background read waits for a lull).
            token = await self._tokens.get(self.shop)
            try:
                status, reply = await self._post({"query": document, "variables": variables, "operationName": name},
                                                 token)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                self._observe({}, cost)
                last = f"{type(exc).__name__}: {exc}".strip(": ")
                if not retry_unknown:
                    break
                await asyncio.sleep(backoff(attempt, 0.2, 5.0, random.random()))
                continue
            extensions = (reply or {}).get("extensions") or {} if isinstance(reply, dict) else {}
            self._observe(extensions, cost)
            if status == 401 and token != fresh and renewals < MAX_RENEWALS:
                # An expired or revoked token: a 401 comes before Shopify runs anything, so a retry with a new
                # token is safe for a mutation too; it spends no attempt. A 401 on the very token fresh() just gave
                # is final.
                self._learned.set()
                fresh, renewals = await self._tokens.fresh(self.shop, token), renewals + 1
                attempt -= 1
                continue
            if status == 401:
                self._learned.set()
                raise ShopifyAuthError(f"{self.shop}: Shopify refused a freshly issued token (HTTP 401): the app was "
                                       "probably uninstalled from the shop or its access revoked; install it again")
            if status in (403, 404):
                self._learned.set()
                raise ShopifyError(f"{self.shop}: HTTP {status} from Shopify (check the access token and scopes)")
            if status == 429 or status >= 500 or not isinstance(reply, dict):
                last = f"HTTP {status}"
                if not retry_unknown and status != 429:
                    break
                await asyncio.sleep(backoff(attempt, 0.2, 5.0, random.random()))
                continue
            actual = (extensions.get("cost") or {}).get("actualQueryCost") if isinstance(extensions, dict) else None
            if isinstance(actual, (int, float)) and not isinstance(actual, bool):
                metrics.SHOPIFY_COST.labels(operation=name).inc(actual)
            requested = requested_cost(extensions)
            if requested is not None:
                self._costs[name] = requested
                learning = self._learning.pop(name, None)
                if learning is not None:
                    learning.set()
            errors = reply.get("errors")
            if errors and not isinstance(errors, str) and any(
                    (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                # No sleep here: the next _reserve waits exactly as long as the bucket needs.
                self.throttled_replies += 1
                metrics.SHOPIFY_THROTTLED.labels(shop=self.shop).inc()
                last = "THROTTLED"
                continue
            if errors and not only_protected_data(errors, reply.get("data")):
                raise ShopifyError(f"{self.shop}: {name}: {errors if isinstance(errors, str) else errors[0].get('message')}")
            if errors and (self.shop, name) not in _PROTECTED_WARNED:
                # The app is not approved for protected customer data: Shopify serves the rest of the document and
                # nulls the customer fields (https://shopify.dev/docs/apps/launch/protected-customer-data).
                _PROTECTED_WARNED.add((self.shop, name))
                log.warning("%s: %s: protected customer data is not granted to this app, so names, emails and "
                            "addresses read as empty; request access in the app's settings (Dev Dashboard)",
                            self.shop, name)
            return Result(reply.get("data") or {}, extensions)
        raise ShopifyTransientError(f"{self.shop}: {name}: gave up after {attempt} tries ({last})")


_PROTECTED_WARNED: set[tuple[str, str]] = set()


def only_protected_data(errors: Any, data: Any) -> bool:
    """True when data came back and every error is Shopify's protected-customer-data refusal."""
    return isinstance(errors, list) and bool(data) and all(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "ACCESS_DENIED"
        and "protected-customer-data" in str((e.get("extensions") or {}).get("documentation", "")) for e in errors)


class ShopifyClients:
    """One client per shop, sharing an aiohttp session and the token source (bot/shopify/tokens.py)."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        *,
        url_template: str,
        api_version: str,
        tokens: TokenSource | None = None,
        token_for: Callable[[str], Awaitable[str | None]] | None = None,
        timeout_s: float = 10.0,
    ):
        self.session = session  # set by the composition root once the event loop runs
        self._template = url_template
        self._version = api_version
        self._versions = VersionWatch(api_version, source="Admin API reply")
        assert tokens is not None or token_for is not None, "tokens= or token_for="
        self.tokens: TokenSource = tokens if tokens is not None else LoadedToken(token_for)  # type: ignore[arg-type]
        self._timeout_s = timeout_s
        self._clients: dict[str, ShopifyClient] = {}

    async def get(self, shop: str) -> ShopifyClient:
        """The client for `shop`; raises ShopifyError for a shop we have no token for."""
        client = self._clients.get(shop)
        if client is None:
            if self.session is None:
                raise ShopifyError("the HTTP session is not started")
            await self.tokens.get(shop)  # a shop with no token fails here, before a client exists for it
            url = self._template.format(shop=shop, version=self._version)
            # setdefault: callers that raced through the token lookup must share one client, or each would
            # keep its own idea of the shop's cost bucket and together overspend it.
            client = self._clients.setdefault(shop, ShopifyClient(self.session, shop=shop, tokens=self.tokens,
                                                                  url=url, timeout_s=self._timeout_s,
                                                                  versions=self._versions))
        return client
