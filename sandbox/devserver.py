"""`holdfast sandbox`: the stand-ins on fixed local ports plus a small control API for developers."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web
from cryptography.fernet import Fernet

from sandbox.control_api import make_control_app
from sandbox.simulator import SlackSimulator

# The fixed identities live in sandbox/workspace.py; they are re-exported here, where tests and tools import them.
from sandbox.workspace import (
    APP,
    BOT_TOKEN,
    CHANNEL,
    CLIENT_ID,
    CLIENT_SECRET,
    SHIPSTATION_KEY,
    SHOP,
    SHOP_TOKEN,
    SIGNING_SECRET,
    TEAM,
    USERGROUPS,
    USERS,
    WEBHOOK_SECRET,
    make_sandboxes,
    make_shipstation,
)

__all__ = ["APP", "BOT_TOKEN", "CHANNEL", "CLIENT_ID", "CLIENT_SECRET", "SHIPSTATION_KEY", "SHOP", "SHOP_TOKEN",
           "SIGNING_SECRET", "TEAM", "USERGROUPS", "USERS", "WEBHOOK_SECRET", "make_control_app", "make_sandboxes",
           "make_shipstation", "run", "serve"]


async def serve(app: web.Application, port: int = 0) -> tuple[web.AppRunner, int]:
    """Run an aiohttp app on 127.0.0.1 (port 0: any free port); returns the runner and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, runner.addresses[0][1]


async def run(*, shopify_port: int, slack_port: int, control_port: int, bot_url: str,
              ready: asyncio.Event | None = None, slack_rate_scale: float = 1.0, shipstation_port: int = 8084) -> None:
    """Serve the stand-ins and the control API until cancelled."""
    shopify, slack = make_sandboxes(slack_rate_scale=slack_rate_scale)
    shipstation = make_shipstation(shopify)
    shopify.shops[SHOP].webhook_url = f"{bot_url}/shopify/webhooks"
    slack.base_url = f"http://127.0.0.1:{slack_port}"
    sim = SlackSimulator(events_url=f"{bot_url}/slack/events", signing_secret=SIGNING_SECRET, slack=slack, team_id=TEAM)
    runners = [(await serve(shopify.make_app(), shopify_port))[0], (await serve(slack.make_app(), slack_port))[0],
               (await serve(make_control_app(shopify, slack, sim, shipstation), control_port))[0],
               (await serve(shipstation.make_app(), shipstation_port))[0]]
    print(f"""sandbox running: Shopify on :{shopify_port}, Slack on :{slack_port}, ShipStation on :{shipstation_port}, \
control API on :{control_port}.
Console (Slack and Shopify in the browser): http://127.0.0.1:{control_port}/console
Point holdfast at it:
  export SHOPIFY_CLIENT_ID={CLIENT_ID} SHOPIFY_CLIENT_SECRET={CLIENT_SECRET} SHOPIFY_SHOP={SHOP}
  export HOLDFAST_SECRET_KEY={Fernet.generate_key().decode()}
  export HOLDFAST_SHOPIFY_ADMIN_URL='http://127.0.0.1:{shopify_port}/{{shop}}/admin/api/{{version}}/graphql.json'
  export HOLDFAST_SHOPIFY_OAUTH_URL='http://127.0.0.1:{shopify_port}/{{shop}}/admin/oauth'
  export SLACK_BOT_TOKEN={BOT_TOKEN} SLACK_SIGNING_SECRET={SIGNING_SECRET}
  export HOLDFAST_SLACK_API_URL=http://127.0.0.1:{slack_port}/api/ HOLDFAST_CONFIG=holdfast.example.yml
  export HOLDFAST_SHIPSTATION_API_URL=http://127.0.0.1:{shipstation_port} SHIPSTATION_API_KEYS={SHOP}={SHIPSTATION_KEY}
  holdfast serve --port {bot_url.rsplit(':', 1)[-1]}
Then place an order and click:
  curl -s localhost:{control_port}/orders -d '{{"customer": {{"tags": ["staff"]}}, "line_items": [{{"title": "Mug", "quantity": 1, "price": "12.00"}}]}}'
  curl -s localhost:{control_port}/messages
  curl -s localhost:{control_port}/click -d '{{"channel": "{CHANNEL}", "ts": "<ts>", "action_id": "request-approve", "user": "U0ANA"}}'
Or send one of Shopify's own webhook bodies, signed: holdfast sandbox send FILE --topic orders/create
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
