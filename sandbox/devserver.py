"""`holdfast sandbox`: the stand-ins on fixed local ports plus a small control API for developers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet

from bot.shopify.scopes import ACCESS_SCOPES
from sandbox.shopify import ShopifySandbox
from sandbox.simulator import SlackSimulator
from sandbox.slack import SlackSandbox

SHOP = "demo-store.myshopify.com"
SHOP_TOKEN = "shpat_sandbox_token"  # a legacy static token (SHOPIFY_SHOPS) of the same app, for tests of that path
# holdfast's Dev Dashboard app: its client secret fetches tokens (client credentials) and signs its webhooks.
APP = "holdfast"
CLIENT_ID = "sandbox-holdfast-client-id"
CLIENT_SECRET = WEBHOOK_SECRET = "sandbox-shopify-app-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"
SIGNING_SECRET = "sandbox-slack-signing-secret"
TEAM = "T0HOLDFAST"
CHANNEL = "C0APPROVALS"
USERS = {"U0ANA": "Ana Approver", "U0BEN": "Ben Finance", "U0EVE": "Eve Stranger"}


def make_sandboxes(*, slack_rate_scale: float = 1.0) -> tuple[ShopifySandbox, SlackSandbox]:
    """A demo shop and a Slack workspace with three users and an approvals channel holdfast was invited to.

    The bot token carries manifest.yml's scopes and Slack's rate tiers apply, `slack_rate_scale` times faster."""
    # Tokens carry exactly the access scopes holdfast declares (as a merchant grants them at install, README), so a
    # document that needs another one fails here as it would on a real shop. Standard plan: the smallest bucket.
    shopify = ShopifySandbox(scopes=ACCESS_SCOPES)
    shopify.add_shop(SHOP, access_token=SHOP_TOKEN, webhook_secret=WEBHOOK_SECRET, plan="standard", app=APP)
    # The merchant's own store: the app belongs to the store's organization and is installed from the Dev
    # Dashboard, so holdfast gets its tokens with the client credentials grant (README, "Your own store").
    shopify.register_app(CLIENT_ID, CLIENT_SECRET, name=APP, organization_shops=[SHOP])
    shopify.install_app(SHOP, CLIENT_ID)
    # holdfast's app is approved for protected customer data, level 1 and every level-2 field: a custom app has them
    # "always available" (https://shopify.dev/docs/apps/launch/protected-customer-data).
    # A test revokes them with shopify.grant_customer_data(APP, fields=()) or customer_data.pop(APP).
    shopify.grant_customer_data(APP)
    slack = SlackSandbox(bot_token=BOT_TOKEN, team_id=TEAM, bot_user_id="U0HOLDBOT", rate_scale=slack_rate_scale)
    for uid, name in USERS.items():
        slack.add_user(uid, name=name.split()[0].lower(), real_name=name)
    slack.add_channel(CHANNEL, name="order-approvals", members=list(USERS))
    slack.invite(CHANNEL)  # the operator's `/invite @holdfast` (README, "The Slack app"); a test may slack.remove it
    return shopify, slack


async def serve(app: web.Application, port: int = 0) -> tuple[web.AppRunner, int]:
    """Run an aiohttp app on 127.0.0.1 (port 0: any free port); returns the runner and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, runner.addresses[0][1]


def _order_state(shopify: ShopifySandbox, order: Any) -> dict[str, Any]:
    return {
        "name": order.name, "gid": order.gid, "tags": order.tags,
        "fulfillment_orders": [{"id": fo.gid, "status": fo.status,
                                "holds": [{"id": h.gid, "handle": h.handle} for h in fo.holds]}
                               for fo in order.fulfillment_orders],
    }


def make_control_app(shopify: ShopifySandbox, slack: SlackSandbox, sim: SlackSimulator) -> web.Application:
    """POST /orders, GET /orders/{name}, GET /messages, POST /click: drive the sandbox from curl or scripts."""

    async def create(request: web.Request) -> web.Response:
        spec = await request.json()
        shop = spec.pop("shop", SHOP)
        try:
            order = shopify.create_order(shop, **spec)
        except (TypeError, ValueError, KeyError) as exc:
            return web.json_response({"error": f"cannot create that order: {exc}"}, status=400)
        try:
            status = await shopify.deliver_webhook(shop, "orders/create", order.webhook_body())
        except (OSError, asyncio.TimeoutError) as exc:  # the bot is not running: the order still exists
            status = f"not delivered: {exc}"
        return web.json_response({**_order_state(shopify, order), "webhook_status": status})

    async def show(request: web.Request) -> web.Response:
        order = shopify.order_by_name(request.query.get("shop", SHOP), "#" + request.match_info["name"].lstrip("#"))
        if order is None:
            return web.json_response({"error": "no such order"}, status=404)
        return web.json_response(_order_state(shopify, order))

    async def messages(_: web.Request) -> web.Response:
        out = [{"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": slack.render(m)}
               for msgs in slack.messages.values() for m in msgs]
        return web.json_response({"messages": out, "ephemerals": slack.ephemerals})

    async def click(request: web.Request) -> web.Response:
        p = await request.json()
        sent_at = time.time()  # when the click left "Slack" (benchmarks time the bot from here)
        try:
            status, body = await sim.click(p["channel"], p["ts"], p["action_id"], p["user"])
        except (KeyError, LookupError, ValueError) as exc:
            return web.json_response({"error": f"cannot click that: {exc}"}, status=400)
        except (OSError, asyncio.TimeoutError, aiohttp.ClientError) as exc:  # the bot is down: not acknowledged
            return web.json_response({"status": 0, "body": f"not delivered: {type(exc).__name__}"})
        return web.json_response({"status": status, "body": body, "sent_at": sent_at})

    async def decide(request: web.Request) -> web.Response:
        """{"channel", "ts", "action_id", "user", "values": {field: value}}: a plain click, or, when the button
        opens a modal, the click, then the modal's submission once the bot has filled it in. "status" is the
        bot's answer to the step that records the vote (the click, or the submission); 0 if it was down."""
        p = await request.json()
        try:
            msg = slack.message(p["channel"], p["ts"])
            button = next((e for b in msg.blocks if b.get("type") == "actions" for e in b.get("elements", [])
                           if e.get("action_id") == p["action_id"]), None)
            if button is None:
                return web.json_response({"error": "no such button (decided already?)"}, status=400)
            before = set(slack.views)
            status, body = await sim.click(p["channel"], p["ts"], p["action_id"], p["user"])
            if status != 200 or '"form":true' not in (button.get("value") or "").replace(" ", ""):
                return web.json_response({"status": status, "body": body, "step": "click"})
            loop = asyncio.get_running_loop()
            deadline = loop.time() + float(p.get("timeout", 10))
            while True:
                new = [v for vid, v in slack.views.items() if vid not in before and v.get("user") == p["user"]]
                if new and not any("Loading" in str(b) for b in new[-1]["blocks"]):
                    break
                if loop.time() > deadline:
                    return web.json_response({"status": 0, "body": "the modal was never filled in", "step": "modal"})
                await asyncio.sleep(0.02)
            view, state = new[-1], {}
            for block in view["blocks"]:
                field = block.get("block_id", "").removeprefix("field-")
                if block.get("type") != "input" or field not in (p.get("values") or {}):
                    continue
                element, raw = block["element"], p["values"][field]
                if element["type"] == "static_select":
                    entry = {"type": "static_select", "selected_option":
                             next(o for o in element["options"] if o["value"] == raw)}
                elif element["type"] in ("datepicker", "users_select"):
                    key = "selected_date" if element["type"] == "datepicker" else "selected_user"
                    entry = {"type": element["type"], key: raw}
                else:
                    entry = {"type": element["type"], "value": str(raw)}
                state[block["block_id"]] = {element["action_id"]: entry}
            status, body = await sim.submit_view(view["id"], p["user"], state)
            return web.json_response({"status": status, "body": body, "step": "submit"})
        except (KeyError, LookupError, ValueError, StopIteration) as exc:
            return web.json_response({"error": f"cannot decide that: {exc!r}"}, status=400)
        except (OSError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
            return web.json_response({"status": 0, "body": f"not delivered: {type(exc).__name__}"})

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
        except (OSError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
            d["status"] = f"not delivered: {type(exc).__name__}"
        d["attempts"] += 1
        return d["status"]

    async def bulk(request: web.Request) -> web.Response:
        """{"count", "spec", "urls" (round-robin; default the bot), "concurrency", "rate" (orders/s, optional)}:
        create `count` orders and deliver their webhooks; per order: name, gid, webhook_id, webhook_status."""
        p = await request.json()
        spec, shop = dict(p.get("spec") or {}), p.get("shop", SHOP)
        urls = itertools.cycle(p.get("urls") or [None])
        orders = []
        for _ in range(int(p.get("count", 1))):
            order = shopify.create_order(shop, **spec)
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
        p = await request.json() if request.can_read_body else {}
        names = p.get("names") or [n for n, d in deliveries.items() if not (isinstance(d["status"], int)
                                                                            and 200 <= d["status"] < 300)]
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
            orders.append({**_order_state(shopify, order), "webhook_status": d.get("status"),
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
                                                            for r in shopify.token_requests)})

    async def faults(request: web.Request) -> web.Response:
        """{"shopify": {"rate", "kinds", "delay", "seed"}, "slack": {"rate", "kinds", "methods", "seed"},
        "bucket": {"size", "restore_rate"}, "tokens": {"client_credentials_ttl_s", "access_token_ttl_s"}}: random
        faults (rate 0 stops them), the Shopify cost bucket, and how long holdfast's app's tokens last."""
        p = await request.json()
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

    app = web.Application()
    app.router.add_post("/orders", create)
    app.router.add_post("/orders/bulk", bulk)
    app.router.add_get("/orders/{name}", show)
    app.router.add_get("/messages", messages)
    app.router.add_post("/click", click)
    app.router.add_post("/decide", decide)
    app.router.add_post("/webhooks/redeliver", redeliver)
    app.router.add_get("/state", state)
    app.router.add_post("/faults", faults)
    app.on_cleanup.append(close_session)
    return app


async def run(*, shopify_port: int, slack_port: int, control_port: int, bot_url: str,
              ready: asyncio.Event | None = None, slack_rate_scale: float = 1.0) -> None:
    """Serve the stand-ins and the control API until cancelled."""
    shopify, slack = make_sandboxes(slack_rate_scale=slack_rate_scale)
    shopify.shops[SHOP].webhook_url = f"{bot_url}/shopify/webhooks"
    slack.base_url = f"http://127.0.0.1:{slack_port}"
    sim = SlackSimulator(events_url=f"{bot_url}/slack/events", signing_secret=SIGNING_SECRET, slack=slack, team_id=TEAM)
    runners = [(await serve(shopify.make_app(), shopify_port))[0], (await serve(slack.make_app(), slack_port))[0],
               (await serve(make_control_app(shopify, slack, sim), control_port))[0]]
    print(f"""sandbox running: Shopify on :{shopify_port}, Slack on :{slack_port}, control API on :{control_port}.
Point holdfast at it:
  export SHOPIFY_CLIENT_ID={CLIENT_ID} SHOPIFY_CLIENT_SECRET={CLIENT_SECRET} SHOPIFY_SHOP={SHOP}
  export HOLDFAST_SECRET_KEY={Fernet.generate_key().decode()}
  export HOLDFAST_SHOPIFY_ADMIN_URL='http://127.0.0.1:{shopify_port}/{{shop}}/admin/api/{{version}}/graphql.json'
  export HOLDFAST_SHOPIFY_OAUTH_URL='http://127.0.0.1:{shopify_port}/{{shop}}/admin/oauth'
  export SLACK_BOT_TOKEN={BOT_TOKEN} SLACK_SIGNING_SECRET={SIGNING_SECRET}
  export HOLDFAST_SLACK_API_URL=http://127.0.0.1:{slack_port}/api/ HOLDFAST_CONFIG=holdfast.example.yml
  holdfast serve --port {bot_url.rsplit(':', 1)[-1]}
Then place an order and click:
  curl -s localhost:{control_port}/orders -d '{{"customer": {{"tags": ["staff"]}}, "line_items": [{{"title": "Mug", "quantity": 1, "price": "12.00"}}]}}'
  curl -s localhost:{control_port}/messages
  curl -s localhost:{control_port}/click -d '{{"channel": "{CHANNEL}", "ts": "<ts>", "action_id": "request-approve", "user": "U0ANA"}}'
Ctrl-C stops it.""", flush=True)
    if ready:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        await sim.close()
        await shopify.close()  # webhook retries still waiting
        for runner in runners:
            with contextlib.suppress(Exception):
                await runner.cleanup()
