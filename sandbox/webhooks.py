"""Signing, sending and retrying Shopify webhooks as Shopify does.

A delivery is one webhook (one X-Shopify-Webhook-Id) and every attempt to deliver it. Shopify's rules:
- The endpoint has 1 second to accept the connection and 5 seconds in all to answer; anything but a 2xx in time
  is a failure (https://shopify.dev/docs/apps/build/webhooks/subscribe/https).
- A failed webhook "will now be retried a total of 8 times over 4 hours using an exponential backoff schedule",
  "delivered with the original payload from the time they were triggered", to "the subscription's address that
  was configured when the webhook was triggered" (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism).
  The retry is the same webhook: same id, same body, hence the same HMAC, and the same X-Shopify-Triggered-At.
Shopify publishes the count and the window, not each interval: `retry_delays` doubles the wait from 4 h / 255
(≈ 56 s), so the eight waits add up to exactly four hours. `scale` compresses the schedule for tests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import aiohttp

RETRIES = 8
RETRY_WINDOW_S = 4 * 3600.0
TIMEOUT_S = 5.0  # "5 seconds" to answer, all told
CONNECT_TIMEOUT_S = 1.0  # "1 second" to accept the connection


def sign_shopify_webhook(secret: str, body: bytes) -> str:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256(app secret, raw body)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_webhook_headers(
    *,
    topic: str,
    shop: str,
    secret: str,
    body: bytes,
    api_version: str,
    webhook_id: str | None = None,
    event_id: str | None = None,
    triggered_at: datetime | None = None,
) -> dict[str, str]:
    """The headers Shopify sends with a webhook (fresh ids unless given); `api_version` is the version the body
    was serialised in (https://shopify.dev/docs/apps/build/webhooks/delivery-structure)."""
    when = (triggered_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_shopify_webhook(secret, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
    }


def webhook_body_bytes(body: bytes | str | dict[str, Any] | list[Any]) -> bytes:
    """The raw bytes sent (and signed): JSON-encoded unless already bytes/str."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def retry_delays(scale: float = 1.0) -> list[float]:
    """The wait before each of the 8 retries: doubling, 4 hours in all (times `scale`)."""
    first = RETRY_WINDOW_S / (2 ** RETRIES - 1)
    return [first * 2 ** n * scale for n in range(RETRIES)]


@dataclass
class Attempt:
    """One POST of a delivery: when, and the status (None: no answer in time, see `error`)."""

    number: int  # 1 is the first delivery, 2..9 the retries
    at: datetime
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Delivery:
    """One webhook and its attempts; `state` is pending, delivered or failed (all retries spent)."""

    shop: str
    topic: str
    url: str
    raw: bytes
    headers: dict[str, str]
    body: Any = None  # what was sent, decoded (tests read it)
    subscription: str | None = None  # the subscription's gid, if one targeted it
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"

    @property
    def webhook_id(self) -> str:
        return self.headers["X-Shopify-Webhook-Id"]

    @property
    def status(self) -> int | None:
        """The latest attempt's status."""
        return self.attempts[-1].status if self.attempts else None


async def post_once(delivery: Delivery, session: aiohttp.ClientSession, *, timeout: float = TIMEOUT_S) -> Attempt:
    """POST the delivery's exact bytes and headers once; record and return the attempt (never raises)."""
    limits = aiohttp.ClientTimeout(total=timeout, sock_connect=min(CONNECT_TIMEOUT_S, timeout))
    number, at = len(delivery.attempts) + 1, datetime.now(timezone.utc)
    try:
        async with session.post(delivery.url, data=delivery.raw, headers=delivery.headers, timeout=limits,
                                allow_redirects=False) as reply:  # a 3xx is not a 2xx: a failure
            attempt = Attempt(number, at, reply.status)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        attempt = Attempt(number, at, None, f"{type(exc).__name__}: {exc}".rstrip(": "))
    delivery.attempts.append(attempt)
    if attempt.ok:
        delivery.state = "delivered"
    return attempt


async def retry(delivery: Delivery, session: aiohttp.ClientSession, delays: list[float], *,
                timeout: float = TIMEOUT_S) -> Delivery:
    """Shopify's retries after a failed first attempt: wait, resend the same webhook, until a 2xx or the end."""
    for wait in delays:
        await asyncio.sleep(wait)
        if (await post_once(delivery, session, timeout=timeout)).ok:
            return delivery
    delivery.state = "failed"
    return delivery


async def send_shopify_webhook(
    url: str,
    *,
    topic: str,
    shop: str,
    secret: str,
    body: bytes | str | dict[str, Any] | list[Any],
    api_version: str,
    session: aiohttp.ClientSession | None = None,
    webhook_id: str | None = None,
    event_id: str | None = None,
    timeout: float = TIMEOUT_S,
) -> int:
    """POST a signed webhook to `url` once (no retries); the HTTP status. Raises when no answer came in time."""
    raw = webhook_body_bytes(body)
    headers = shopify_webhook_headers(topic=topic, shop=shop, secret=secret, body=raw, webhook_id=webhook_id,
                                      event_id=event_id, api_version=api_version)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    if session is not None:
        async with session.post(url, data=raw, headers=headers, timeout=client_timeout) as response:
            return response.status
    async with aiohttp.ClientSession() as own, own.post(url, data=raw, headers=headers, timeout=client_timeout) as response:
        return response.status


async def post_signed_webhook(url: str, *, topic: str, shop: str, secret: str, raw: bytes, api_version: str,
                              timeout: float = TIMEOUT_S) -> tuple[int, str, dict[str, str]]:
    """POST `raw` exactly as given (a saved body keeps its bytes, so its HMAC is over what was sent), signed and
    headed as Shopify sends a webhook; (status, reply text, the headers sent). Raises when no answer came."""
    headers = shopify_webhook_headers(topic=topic, shop=shop, secret=secret, body=raw, api_version=api_version)
    async with aiohttp.ClientSession() as session, session.post(
            url, data=raw, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False) as reply:
        return reply.status, await reply.text(), headers
