"""Webhook deliveries as Shopify makes them: who gets a topic, in which version, and the retries that follow.

- Targets. App-scoped subscriptions are declared in the app's configuration and hold for every shop the app is
  on; shop-scoped ones are created through the API for one shop
  (https://shopify.dev/docs/apps/build/webhooks/subscribe#app-specific-vs-shop-specific-subscriptions). A shop's
  `webhook_url` (the sandbox's shortcut, set by DevStack and the dev server) stands for an app-scoped one of the
  shop's own app.
- Version. A body is serialised in the subscription's API version, "inherited from the app that created the
  webhook subscription" (WebhookSubscription.apiVersion, https://shopify.dev/docs/api/admin-graphql/latest/objects/WebhookSubscription);
  a retired version falls forward like an API call (server.served_version), and X-Shopify-API-Version says which.
- Protected customer data is redacted for the receiving app (customer_data.redact_order_body).
- Retries (sandbox/webhooks.py): the first attempt is made inline and its status returned; a failure is retried
  in a background task the sandbox owns (cancelled by `close`). After the last failed retry a shop-scoped
  subscription is deleted ("after 8 consecutive failures it deletes the subscription if it was created through
  the Admin API", https://shopify.dev/docs/apps/build/webhooks/subscribe/https); an app-scoped one stays.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import aiohttp

from ..webhooks import TIMEOUT_S, Delivery, post_once, retry, retry_delays, shopify_webhook_headers, webhook_body_bytes
from .customer_data import redact_order_body, topic_has_customer_data
from .records import WebhookSubscription
from .schema import API_VERSION
from .server import served_version

if TYPE_CHECKING:
    from .control import ShopifySandbox


def topic_enum(topic: str) -> str:
    """orders/create -> ORDERS_CREATE (WebhookSubscriptionTopic)."""
    return topic.upper().replace("/", "_")


class Deliveries:
    """Every webhook the sandbox sent (`log`, oldest first), and the retries still to come."""

    def __init__(self, sb: ShopifySandbox, *, retry_scale: float = 1.0) -> None:
        self.sb = sb
        self.retry_scale = retry_scale  # 1.0: Shopify's 4 hours; tests compress it (1e-4: 1.44 s)
        self.log: list[Delivery] = []
        self.app_subscriptions: dict[str, WebhookSubscription] = {}  # app-scoped, from the app's configuration
        self._tasks: set[asyncio.Task[Delivery]] = set()
        self._http: aiohttp.ClientSession | None = None

    # --- app-scoped subscriptions (the app's configuration file) ---------------------------------------------
    def declare(self, app: str, topic: str, uri: str, api_version: str = "") -> WebhookSubscription:
        """An app-scoped subscription, as `[[webhooks.subscriptions]]` in shopify.app.toml declares it."""
        legacy, gid = self.sb.ids.next("WebhookSubscription")
        sub = WebhookSubscription(gid, legacy, None, app, topic_enum(topic), uri, self.sb.now(),
                                  api_version=api_version)
        self.app_subscriptions[gid] = sub
        return sub

    def _target(self, shop: str, topic: str) -> tuple[str, WebhookSubscription | None, str | None]:
        """(url, subscription, receiving app) for a topic on a shop."""
        record = self.sb.shops[shop]
        if record.webhook_url:
            return record.webhook_url, None, next(iter(record.tokens.values()), None)
        # The apps on the shop: those holding a token, and those installed through OAuth before they hold one
        # (an uninstall revokes the tokens and the install alike, so an uninstalled app is in neither).
        installed = set(record.tokens.values()) | self.sb.oauth.installed_names(shop)
        sub = self._subscription(shop, topic, installed)
        if sub is None:
            raise ValueError(f"no webhook URL for {shop} {topic}")
        return sub.callback_url, sub, sub.app

    def _subscription(self, shop: str, topic: str, apps: set[str]) -> WebhookSubscription | None:
        """The first subscription of one of `apps` to `topic` on `shop`: shop-scoped ones, then app-scoped."""
        subs = [s for s in self.sb.webhook_subscriptions.values() if s.shop == shop and s.app in apps]
        subs += [s for s in self.app_subscriptions.values() if s.app in apps]
        return next((s for s in subs if s.topic == topic_enum(topic)), None)

    def target_for(self, shop: str, topic: str, app: str) -> tuple[str, WebhookSubscription | None, str] | None:
        """Where `app`'s own `topic` webhook for `shop` goes (its subscription, or the shop's webhook_url if it is
        the shop's own app), or None: looked up before an uninstall takes the subscriptions away."""
        record = self.sb.shops[shop]
        if record.webhook_url and next(iter(record.tokens.values()), None) == app:
            return record.webhook_url, None, app
        sub = self._subscription(shop, topic, {app})
        return (sub.callback_url, sub, app) if sub is not None else None

    def remove_shop_subscriptions(self, shop: str, app: str) -> None:
        """Delete `app`'s shop-scoped subscriptions on `shop` (the app was uninstalled)."""
        for gid in [g for g, s in self.sb.webhook_subscriptions.items() if s.shop == shop and s.app == app]:
            del self.sb.webhook_subscriptions[gid]
            self.sb.unregister(gid)

    # --- delivering --------------------------------------------------------------------------------------------
    async def deliver(self, shop: str, topic: str, body: Any, *, url: str | None = None,
                      session: aiohttp.ClientSession | None = None, webhook_id: str | None = None,
                      event_id: str | None = None, api_version: str | None = None,
                      timeout: float = TIMEOUT_S,
                      receiver: tuple[str, WebhookSubscription | None, str | None] | None = None) -> int:
        """Send one webhook; the first attempt's HTTP status (raises ConnectionError when no answer came in time).
        A failure is retried in the background with the same id, body and signature. `receiver` (url,
        subscription, app) names who gets it outright (see `target_for`)."""
        if receiver is None:
            receiver = self._target(shop, topic) if url is None else (url, None, self._app_of(shop))
        target, sub, app = receiver
        if isinstance(body, dict) and app is not None and topic_has_customer_data(topic):
            body = redact_order_body(body, self.sb.customer_data_for(app))
        version = served_version(self.sb, api_version or (sub.api_version if sub else "") or API_VERSION)
        raw = webhook_body_bytes(body)
        # An app's webhooks are signed with its client secret
        # (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook-to-ensure-its-coming-from-shopify);
        # the sandbox's static-token apps keep the shop's webhook_secret.
        registered = self.sb.oauth.by_name(app)
        secret = registered.client_secret if registered is not None else self.sb.shops[shop].webhook_secret
        headers = shopify_webhook_headers(topic=topic, shop=shop, secret=secret, body=raw,
                                          api_version=version or API_VERSION, webhook_id=webhook_id, event_id=event_id,
                                          triggered_at=self.sb.now())
        delivery = Delivery(shop, topic, target, raw, headers, body=_decoded(body, raw),
                            subscription=sub.gid if sub else None)
        self.log.append(delivery)
        first = await post_once(delivery, session or self._session(), timeout=timeout)
        if not first.ok:
            self._spawn(delivery, sub, timeout)
        if first.status is None:
            raise ConnectionError(f"webhook {topic} to {target}: {first.error}")
        return first.status

    def _app_of(self, shop: str) -> str | None:
        return next(iter(self.sb.shops[shop].tokens.values()), None)

    def _spawn(self, delivery: Delivery, sub: WebhookSubscription | None, timeout: float) -> None:
        async def retrying() -> Delivery:
            done = await retry(delivery, self._session(), retry_delays(self.retry_scale), timeout=timeout)
            if done.state == "failed" and sub is not None and not sub.app_scoped:
                self.sb.webhook_subscriptions.pop(sub.gid, None)
                self.sb.unregister(sub.gid)
            return done

        task = asyncio.create_task(retrying(), name=f"shopify-sandbox-webhook-{delivery.webhook_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def settle(self) -> None:
        """Wait until every retry has finished (tests with a compressed schedule)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel the retries still waiting and close the sandbox's own HTTP session."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None


def _decoded(body: Any, raw: bytes) -> Any:
    if not isinstance(body, (bytes, str)):
        return body
    try:
        return json.loads(raw)
    except ValueError:
        return None
