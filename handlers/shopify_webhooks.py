"""POST /shopify/webhooks: verify the HMAC, dedupe, store durably, answer 200 before any processing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from aiohttp import web

from bot.runtime import Runtime
from bot.workflow import ORDER_TOPICS, accept_webhook

log = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024


def valid_hmac(body: bytes, header: str | None, secrets: list[str]) -> bool:
    """Constant-time check of X-Shopify-Hmac-Sha256 against each accepted secret (current, then previous)."""
    if not header:
        return False
    ok = False
    for secret in secrets:
        digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        ok |= hmac.compare_digest(digest, header.strip())  # no early exit: timing says nothing about which
    return ok


def _bad(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def register(app: web.Application, rt: Runtime) -> None:
    """Mount the Shopify webhook route."""
    secrets = [s.get_secret_value() for s in (rt.settings.shopify_api_secret, rt.settings.shopify_api_secret_previous)
               if s.get_secret_value()]

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if len(body) > MAX_BODY:
            return _bad(413, "body too large")
        if not secrets or not valid_hmac(body, request.headers.get("X-Shopify-Hmac-Sha256"), secrets):
            return _bad(401, "invalid X-Shopify-Hmac-Sha256 signature")
        topic = request.headers.get("X-Shopify-Topic", "").strip()
        shop = request.headers.get("X-Shopify-Shop-Domain", "").strip()
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
        missing = [h for h, v in (("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", shop),
                                  ("X-Shopify-Webhook-Id", webhook_id)) if not v]
        if missing:
            return _bad(400, f"missing header(s): {', '.join(missing)}")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _bad(400, f"body is not valid JSON: {exc}")
        if topic in ORDER_TOPICS and (not isinstance(payload, dict) or "id" not in payload):
            return _bad(400, f"{topic} body must be an order object with an `id`")
        fresh = await accept_webhook(rt, topic=topic, shop=shop, webhook_id=webhook_id,
                                     event_id=request.headers.get("X-Shopify-Event-Id") or None, body=payload)
        return web.json_response({"ok": True, "duplicate": not fresh})

    app.router.add_post("/shopify/webhooks", receive)
