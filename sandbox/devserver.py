"""`holdfast sandbox`: the stand-ins on fixed local ports plus a small control API for developers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from sandbox.shopify import ShopifySandbox
from sandbox.simulator import SlackSimulator
from sandbox.slack import SlackSandbox

SHOP = "demo-store.myshopify.com"
SHOP_TOKEN = "shpat_sandbox_token"
WEBHOOK_SECRET = "sandbox-shopify-app-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"
SIGNING_SECRET = "sandbox-slack-signing-secret"
TEAM = "T0HOLDFAST"
CHANNEL = "C0APPROVALS"
USERS = {"U0ANA": "Ana Approver", "U0BEN": "Ben Finance", "U0EVE": "Eve Stranger"}


def make_sandboxes() -> tuple[ShopifySandbox, SlackSandbox]:
    """A demo shop and a Slack workspace with three users and an approvals channel."""
    shopify = ShopifySandbox()
    shopify.add_shop(SHOP, access_token=SHOP_TOKEN, webhook_secret=WEBHOOK_SECRET)
    slack = SlackSandbox(bot_token=BOT_TOKEN, team_id=TEAM, bot_user_id="U0HOLDBOT")
    for uid, name in USERS.items():
        slack.add_user(uid, name=name.split()[0].lower(), real_name=name)
    slack.add_channel(CHANNEL, name="order-approvals")
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
        status = await shopify.deliver_webhook(shop, "orders/create", order.webhook_body())
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
        try:
            status, body = await sim.click(p["channel"], p["ts"], p["action_id"], p["user"])
        except (KeyError, LookupError, ValueError) as exc:
            return web.json_response({"error": f"cannot click that: {exc}"}, status=400)
        return web.json_response({"status": status, "body": body})

    app = web.Application()
    app.router.add_post("/orders", create)
    app.router.add_get("/orders/{name}", show)
    app.router.add_get("/messages", messages)
    app.router.add_post("/click", click)
    return app


async def run(*, shopify_port: int, slack_port: int, control_port: int, bot_url: str,
              ready: asyncio.Event | None = None) -> None:
    """Serve the stand-ins and the control API until cancelled."""
    shopify, slack = make_sandboxes()
    shopify.shops[SHOP].webhook_url = f"{bot_url}/shopify/webhooks"
    slack.base_url = f"http://127.0.0.1:{slack_port}"
    sim = SlackSimulator(events_url=f"{bot_url}/slack/events", signing_secret=SIGNING_SECRET, slack=slack, team_id=TEAM)
    runners = [(await serve(shopify.make_app(), shopify_port))[0], (await serve(slack.make_app(), slack_port))[0],
               (await serve(make_control_app(shopify, slack, sim), control_port))[0]]
    print(f"""sandbox running: Shopify on :{shopify_port}, Slack on :{slack_port}, control API on :{control_port}.
Point holdfast at it:
  export SHOPIFY_API_SECRET={WEBHOOK_SECRET} SHOPIFY_SHOPS={SHOP}={SHOP_TOKEN}
  export HOLDFAST_SHOPIFY_ADMIN_URL='http://127.0.0.1:{shopify_port}/{{shop}}/admin/api/{{version}}/graphql.json'
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
        for runner in runners:
            with contextlib.suppress(Exception):
                await runner.cleanup()
