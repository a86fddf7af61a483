"""`holdfast sandbox`'s control API: drive the stand-ins from curl, scripts, tests or a browser console.

Shopify side (here): POST /orders, POST /orders/bulk, GET /orders/{name}, POST /webhooks/redeliver, GET /state,
POST /faults. Slack side: sandbox/control_slack.py. ShipStation side: sandbox/shipstation/control.py. Every refusal is a 400 with one sentence (control_errors.py).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.console import add_console
from sandbox.control_errors import BadRequest, body_of, refusals
from sandbox.control_slack import add_slack_routes
from sandbox.shipstation import ShipStationSandbox
from sandbox.shipstation.control import add_shipstation_routes, state_section
from sandbox.shopify import ShopifySandbox
from sandbox.shopify.orders import build_order
from sandbox.simulator import SlackSimulator
from sandbox.slack import SlackSandbox
from sandbox.workspace import CLIENT_ID, SHOP

# What an order spec may say: build_order's keywords (its docstring says what each means), and the shop.
ORDER_FIELDS = tuple(sorted(name for name, p in inspect.signature(build_order).parameters.items()
                            if p.kind is inspect.Parameter.KEYWORD_ONLY)) + ("shop",)


def order_spec(spec: Any) -> tuple[str, dict[str, Any]]:
    """(shop, keywords for create_order) from a JSON order spec; BadRequest naming the accepted fields."""
    if not isinstance(spec, dict):
        raise BadRequest(f"an order spec is a JSON object, not a {type(spec).__name__}")
    if unknown := sorted(set(spec) - set(ORDER_FIELDS)):
        raise BadRequest(f"unknown order field(s) {unknown}; accepted: {list(ORDER_FIELDS)}")
    details = dict(spec)
    return details.pop("shop", SHOP), details


def create_order(shopify: ShopifySandbox, shop: str, details: dict[str, Any]) -> Any:
    """The order, or BadRequest with the sandbox's reason (a missing line item, an unknown payment terms name)."""
    if shop not in shopify.shops:
        raise BadRequest(f"no shop {shop!r} in the sandbox (it has {sorted(shopify.shops)})")
    try:
        return shopify.create_order(shop, **details)
    except (TypeError, ValueError, KeyError) as exc:
        raise BadRequest(f"cannot create that order: {exc}") from None


def order_state(order: Any) -> dict[str, Any]:
    return {
        "name": order.name, "gid": order.gid, "tags": order.tags,
        "fulfillment_orders": [{"id": fo.gid, "status": fo.status,
                                "holds": [{"id": h.gid, "handle": h.handle} for h in fo.holds]}
                               for fo in order.fulfillment_orders],
    }


def make_control_app(shopify: ShopifySandbox, slack: SlackSandbox, sim: SlackSimulator,
                     shipstation: ShipStationSandbox | None = None) -> web.Application:
    """The control app over these sandboxes and this simulated Slack user (ShipStation: sandbox/shipstation/control.py)."""

    async def create(request: web.Request) -> web.Response:
        shop, details = order_spec(await body_of(request))
        order = create_order(shopify, shop, details)
        try:
            status = await shopify.deliver_webhook(shop, "orders/create", order.webhook_body())
        except (TimeoutError, OSError) as exc:  # the bot is not running: the order still exists
            status = f"not delivered: {exc}"
        return web.json_response({**order_state(order), "webhook_status": status})

    async def show(request: web.Request) -> web.Response:
        order = shopify.order_by_name(request.query.get("shop", SHOP), "#" + request.match_info["name"].lstrip("#"))
        if order is None:
            return web.json_response({"error": "no such order"}, status=404)
        return web.json_response(order_state(order))

    # --- for load, crash and fault tests (tests/reliability, bench/) -----------------------------------------
    deliveries: dict[str, dict[str, Any]] = {}  # order name -> its orders/create delivery (for redelivery)
    http: dict[str, aiohttp.ClientSession] = {}
    mutation_times: dict[tuple[str, str], float] = {}  # (root field, FO gid) -> wall time of the latest success
    record_mutation = shopify.record_mutation

    def timed_mutation(root_field: str, fo_gid: str) -> None:
        mutation_times[(root_field, fo_gid)] = time.time()
        record_mutation(root_field, fo_gid)

    shopify.record_mutation = timed_mutation  # type: ignore[method-assign]

    def session() -> aiohttp.ClientSession:
        if "s" not in http or http["s"].closed:
            http["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
        return http["s"]

    async def deliver(shop: str, name: str, url: str | None) -> int | str:
        d = deliveries[name]
        try:
            d["sent_at"] = time.time()
            d["status"] = await shopify.deliver_webhook(shop, "orders/create", d["body"], url=url or d.get("url"),
                                                        session=session(), webhook_id=d["webhook_id"],
                                                        event_id=d["event_id"], timeout=10.0)
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            d["status"] = f"not delivered: {type(exc).__name__}"
        d["attempts"] += 1
        return d["status"]

    async def bulk(request: web.Request) -> web.Response:
        """{"count", "spec", "urls" (round-robin; default the bot), "concurrency", "rate" (orders/s, optional)}:
        create `count` orders and deliver their webhooks; per order: name, gid, webhook_id, webhook_status."""
        p = await body_of(request)
        spec_shop, spec = order_spec(p.get("spec") or {})
        shop = p.get("shop", spec_shop)
        urls = itertools.cycle(p.get("urls") or [None])
        orders = []
        for _ in range(int(p.get("count", 1))):
            order = create_order(shopify, shop, spec)
            deliveries[order.name] = {"webhook_id": str(uuid.uuid4()), "event_id": str(uuid.uuid4()), "attempts": 0,
                                      "body": order.webhook_body(), "status": None, "url": next(urls), "gid": order.gid}
            orders.append(order)
        gate = asyncio.Semaphore(int(p.get("concurrency", 16)))
        rate = float(p.get("rate") or 0)
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def one(i: int, order: Any) -> None:
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            async with gate:
                await deliver(shop, order.name, None)

        await asyncio.gather(*(one(i, o) for i, o in enumerate(orders)))
        return web.json_response({"orders": [{"name": o.name, "gid": o.gid, "webhook_id": deliveries[o.name]["webhook_id"],
                                              "webhook_status": deliveries[o.name]["status"]} for o in orders]})

    async def redeliver(request: web.Request) -> web.Response:
        """Shopify's retry: resend (same webhook id) every delivery that did not get a 2xx, or `names`."""
        p = await body_of(request)
        names = p.get("names") or [n for n, d in deliveries.items() if not (isinstance(d["status"], int)
                                                                            and 200 <= d["status"] < 300)]
        if unknown := [n for n in names if n not in deliveries]:
            raise BadRequest(f"no delivery of {unknown} to redeliver (orders from POST /orders/bulk only)")
        url = p.get("url")
        statuses = {n: await deliver(p.get("shop", SHOP), n, url) for n in names}
        return web.json_response({"redelivered": statuses})

    async def state(_: web.Request) -> web.Response:
        """Everything a test checks, from the sandboxes' own records."""
        holds, releases = Counter(), Counter()
        for root_field, fo_gid in shopify.mutations:
            (holds if root_field == "fulfillmentOrderHold" else releases)[fo_gid] += 1
        orders = []
        for order in shopify.orders.values():
            d = deliveries.get(order.name, {})
            orders.append({**order_state(order), "webhook_status": d.get("status"),
                           "webhook_attempts": d.get("attempts", 0), "sent_at": d.get("sent_at"),
                           "held_at": max((mutation_times.get(("fulfillmentOrderHold", fo.gid), 0)
                                           for fo in order.fulfillment_orders), default=0) or None,
                           "released_at": max((mutation_times.get(("fulfillmentOrderReleaseHold", fo.gid), 0)
                                               for fo in order.fulfillment_orders), default=0) or None,
                           "hold_calls": {fo.gid: holds[fo.gid] for fo in order.fulfillment_orders},
                           "release_calls": {fo.gid: releases[fo.gid] for fo in order.fulfillment_orders}})
        shopify_calls = Counter(f"{'+'.join(c['root_fields']) or c['operation']} {c['status']}"
                                f"{' ' + c['fault'] if c.get('fault') else ''}{' throttled' if c['throttled'] else ''}"
                                for c in shopify.calls)
        slack_calls = Counter(f"{c['method']} {c['status']}" for c in slack.calls)
        messages = [{"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": slack.render(m),
                     "request_id": ((m.metadata or {}).get("event_payload") or {}).get("request_id"),
                     "edits": len(m.history), "edited_ts": m.edited_ts}
                    for msgs in slack.messages.values() for m in msgs]
        faults = {"shopify": shopify.faults.random_mode.fired if shopify.faults.random_mode else 0,
                  "slack": slack.faults.random_mode.fired if slack.faults.random_mode else 0}
        return web.json_response({"orders": orders, "messages": messages, "shopify_calls": shopify_calls,
                                  "slack_calls": slack_calls, "random_faults_fired": faults,
                                  "throttled_replies": sum(1 for c in shopify.calls if c["throttled"]),
                                  "token_requests": Counter(f"{r['grant_type']} {r['status']}"
                                                            for r in shopify.token_requests),
                                  **({"shipstation": state_section(shipstation)} if shipstation else {})})

    async def faults(request: web.Request) -> web.Response:
        """{"shopify": {"rate", "kinds", "delay", "seed"}, "slack": {"rate", "kinds", "methods", "seed"},
        "bucket": {"size", "restore_rate"}, "tokens": {"client_credentials_ttl_s", "access_token_ttl_s"}}: random
        faults (rate 0 stops them), the Shopify cost bucket, and how long holdfast's app's tokens last."""
        p = await body_of(request)
        try:
            for name, ttl in (p.get("tokens") or {}).items():
                if name not in ("client_credentials_ttl_s", "access_token_ttl_s"):
                    raise ValueError(f"unknown token lifetime {name!r}")
                setattr(shopify.oauth_apps[CLIENT_ID], name, float(ttl))
            if "shopify" in p:
                shopify.faults.random(**p["shopify"])
            if "slack" in p:
                opts = dict(p["slack"])
                if opts.get("methods") is not None:
                    opts["methods"] = tuple(opts["methods"])
                slack.faults.random(**opts)
            if "bucket" in p:
                if "size" in p["bucket"]:
                    shopify.bucket_size = float(p["bucket"]["size"])
                if "restore_rate" in p["bucket"]:
                    shopify.restore_rate = float(p["bucket"]["restore_rate"])
                shopify._buckets.clear()  # new buckets start full at the new size
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def close_session(_: web.Application) -> None:
        if "s" in http:
            await http["s"].close()

    app = web.Application(middlewares=[refusals])
    app.router.add_post("/orders", create)
    app.router.add_post("/orders/bulk", bulk)
    app.router.add_get("/orders/{name}", show)
    app.router.add_post("/webhooks/redeliver", redeliver)
    app.router.add_get("/state", state)
    app.router.add_post("/faults", faults)
    add_slack_routes(app, slack, sim)
    if shipstation:
        add_shipstation_routes(app, shipstation, default_shop=SHOP)
    add_console(app, shopify=shopify, slack=slack, sim=sim)  # the browser console at /console
    app.on_cleanup.append(close_session)
    return app
