"""Signing and sending Shopify webhooks exactly as Shopify does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone
from typing import Any

import aiohttp


def sign_shopify_webhook(secret: str, body: bytes) -> str:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256(app secret, raw body)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_webhook_headers(
    *,
    topic: str,
    shop: str,
    secret: str,
    body: bytes,
    webhook_id: str | None = None,
    event_id: str | None = None,
    api_version: str = "2025-04",
    triggered_at: datetime | None = None,
) -> dict[str, str]:
    """The headers Shopify sends with a webhook (fresh ids unless given)."""
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


async def send_shopify_webhook(
    url: str,
    *,
    topic: str,
    shop: str,
    secret: str,
    body: bytes | str | dict[str, Any] | list[Any],
    session: aiohttp.ClientSession | None = None,
    webhook_id: str | None = None,
    event_id: str | None = None,
    api_version: str = "2025-04",
    timeout: float = 5.0,
) -> int:
    """POST a signed webhook to `url` (with `session` if given); the HTTP status it got."""
    raw = webhook_body_bytes(body)
    headers = shopify_webhook_headers(topic=topic, shop=shop, secret=secret, body=raw, webhook_id=webhook_id,
                                      event_id=event_id, api_version=api_version)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    if session is not None:
        async with session.post(url, data=raw, headers=headers, timeout=client_timeout) as response:
            return response.status
    async with aiohttp.ClientSession() as own, own.post(url, data=raw, headers=headers, timeout=client_timeout) as response:
        return response.status
