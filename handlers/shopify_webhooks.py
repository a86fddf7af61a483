"""POST /shopify/webhooks: verify the HMAC, dedupe, store durably, answer 200 before any processing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re

from aiohttp import web

from bot import logctx, metrics
from bot.features.privacy import payloads as privacy
from bot.ingest import FULFILLMENT_ORDER_TOPICS, ORDER_TOPICS, PRIVACY_TOPICS, UNINSTALL_TOPIC, Delivery
from bot.runtime import Runtime
from bot.shopify.versions import HEADER as VERSION_HEADER
from bot.shopify.versions import VersionWatch

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


MAX_DEPTH = 64  # Shopify's payloads nest a handful of levels; deeper is garbage (and would overflow the stack)
# Longest value stored per header (the columns' sizes; a job key is "order:{shop}:{order id}" <= 128).
MAX_HEADER = {"X-Shopify-Topic": 128, "X-Shopify-Webhook-Id": 128, "X-Shopify-Event-Id": 128,
              "X-Shopify-Shop-Domain": 80}
MAX_ORDER_ID = 40


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


# A lone surrogate can only reach a str through a \uD800-\uDFFF escape (raw bytes are decoded strictly).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_body(body: bytes) -> tuple[object, str | None]:
    """(payload, None) for a storable JSON document, else (None, why): strict JSON (no NaN/Infinity),
    at most MAX_DEPTH levels deep, strings that are valid Unicode (no lone surrogates)."""
    try:
        payload = json.loads(body, parse_constant=_reject_constant, parse_float=_finite)
    except RecursionError:
        return None, f"body is nested more than {MAX_DEPTH} levels deep"
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        return None, f"body is not valid JSON: {exc}"
    # Only containers are walked (the hot path of every webhook); strings only when an escape could hide a
    # surrogate. A non-empty container at MAX_DEPTH puts its items one level deeper than allowed.
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if value and depth >= MAX_DEPTH:
                return None, f"body is nested more than {MAX_DEPTH} levels deep"
            stack += [(v, depth + 1) for v in value.values() if isinstance(v, (dict, list))]
        elif isinstance(value, list):
            if value and depth >= MAX_DEPTH:
                return None, f"body is nested more than {MAX_DEPTH} levels deep"
            stack += [(v, depth + 1) for v in value if isinstance(v, (dict, list))]
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(payload):
        return None, "body has a string that is not valid Unicode (a lone surrogate)"
    return payload, None


def _has_lone_surrogate(payload: object) -> bool:
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += value.keys()
            stack += value.values()
        elif isinstance(value, list):
            stack += value
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


STORED, DUPLICATE = (json.dumps({"ok": True, "duplicate": d}).encode() for d in (False, True))
UNUSABLE = "\x00"  # a header value no valid request carries


def _header(request: web.Request, name: str) -> str:
    """A header as clean text: '' when absent, UNUSABLE when not storable (bad bytes, control chars, too long)."""
    value = request.headers.get(name, "").strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return UNUSABLE
    return value if len(value) <= MAX_HEADER.get(name, 255) and value.isprintable() else UNUSABLE


def _order_id_ok(value: object) -> bool:
    """Shopify order ids are integers (a numeric string or a gid from some clients)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 10**30
    return isinstance(value, str) and 0 < len(value) <= MAX_ORDER_ID and value.isprintable()


_FO_GID = re.compile(r"gid://shopify/FulfillmentOrder/[0-9]{1,20}")


def _fulfillment_order_ok(payload: object) -> bool:
    """fulfillment_orders/* bodies name their fulfillment order by gid (../shared/shopify/webhooks/)."""
    fo = payload.get("fulfillment_order") if isinstance(payload, dict) else None
    gid = fo.get("id") if isinstance(fo, dict) else None
    return isinstance(gid, str) and _FO_GID.fullmatch(gid) is not None


def _bad(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def register(app: web.Application, rt: Runtime) -> None:
    """Mount the Shopify webhook route."""
    secrets = rt.settings.webhook_secrets()  # the client secret signs them all (and the legacy names)
    client_secret = rt.settings.shopify_client_secret.get_secret_value()
    # A webhook says which API version its body was made in; another than ours is logged once, never refused.
    versions = VersionWatch(rt.settings.shopify_api_version, source="webhook")

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if len(body) > MAX_BODY:
            return _bad(413, "body too large")
        if not secrets or not valid_hmac(body, request.headers.get("X-Shopify-Hmac-Sha256"), secrets):
            return _bad(401, "invalid X-Shopify-Hmac-Sha256 signature")
        topic = _header(request, "X-Shopify-Topic")
        shop = _header(request, "X-Shopify-Shop-Domain")
        webhook_id = _header(request, "X-Shopify-Webhook-Id")
        event_id = _header(request, "X-Shopify-Event-Id")
        missing = [h for h, v in (("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", shop),
                                  ("X-Shopify-Webhook-Id", webhook_id)) if not v]
        if missing:
            return _bad(400, f"missing header(s): {', '.join(missing)}")
        unusable = [h for h, v in (("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", shop),
                                   ("X-Shopify-Webhook-Id", webhook_id), ("X-Shopify-Event-Id", event_id))
                    if v == UNUSABLE]
        if unusable:
            return _bad(400, f"unreadable or over-long header(s): {', '.join(unusable)}")
        payload, problem = parse_body(body)
        if problem:
            return _bad(400, problem)
        versions.see(request.headers.get(VERSION_HEADER))
        if topic in ORDER_TOPICS and not (isinstance(payload, dict) and _order_id_ok(payload.get("id"))):
            return _bad(400, f"{topic} body must be an order object with an `id`")
        if topic in FULFILLMENT_ORDER_TOPICS and not _fulfillment_order_ok(payload):
            return _bad(400, f"{topic} body must carry `fulfillment_order.id` (a FulfillmentOrder gid)")
        # app/uninstalled's body is the shop (https://shopify.dev/docs/api/webhooks/latest?reference=toml, topic
        # app/uninstalled): it must name the shop of the header, or one stray body could switch a shop off.
        if topic == UNINSTALL_TOPIC and not (isinstance(payload, dict) and str(
                payload.get("myshopify_domain") or "").lower() == shop.lower()):
            return _bad(400, f"{topic} body must be the shop object, with `myshopify_domain` = X-Shopify-Shop-Domain")
        # The compliance topics are checked like any webhook (a bad HMAC got its 401 above, as Shopify requires:
        # https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance), then their bodies here.
        if topic in PRIVACY_TOPICS and (why := privacy.problem(topic, payload, shop=shop)):
            return _bad(400, why)
        # Which app was uninstalled: during a move off a legacy admin app both secrets verify, and removing the old
        # app must not delete the new one's tokens (bot/features/install/executors.py).
        by_client = topic != UNINSTALL_TOPIC or not client_secret or valid_hmac(
            body, request.headers.get("X-Shopify-Hmac-Sha256"), [client_secret])
        # Stored with its processing job, group-committed with the deliveries arriving with it (bot/ingest.py).
        fresh = await rt.webhooks.accept(Delivery(topic, shop, webhook_id, event_id or None, payload, body, by_client))
        return web.Response(body=DUPLICATE if not fresh else STORED, content_type="application/json")

    async def counted(request: web.Request) -> web.Response:
        with logctx.scope(f"webhook {request.headers.get('X-Shopify-Webhook-Id', '-')[:36]}"):
            response = await receive(request)
        outcome = "refused" if response.status >= 400 else "duplicate" if response.body is DUPLICATE else "stored"
        topic = request.headers.get("X-Shopify-Topic", "")[:64] if response.status < 400 else "-"
        metrics.WEBHOOKS.labels(topic=topic, outcome=outcome).inc()
        return response

    app.router.add_post("/shopify/webhooks", counted)
