"""The bot wired to the sandbox over real loopback HTTP: used by `holdfast demo`, `holdfast sandbox` and tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.fernet import Fernet
from sqlmodel import col, func, select

from bot.app import RUNTIME, create_app
from bot.approvals.policies import PolicySet
from bot.policy_file import load_file
from bot.runtime import Runtime
from bot.settings import Settings
from sandbox.control_slack import view_state_values
from sandbox.devserver import (
    BOT_TOKEN,
    CHANNEL,  # noqa: F401 - re-exported for tests and the demo
    CLIENT_ID,
    CLIENT_SECRET,
    SHIPSTATION_KEY,
    SHOP,
    SHOP_TOKEN,
    SIGNING_SECRET,
    TEAM,
    WEBHOOK_SECRET,
    make_sandboxes,
    make_shipstation,
    serve,
)
from sandbox.devserver import run as run_sandbox  # noqa: F401 - `holdfast sandbox`: the stand-ins on their own
from sandbox.simulator import SlackSimulator
from sandbox.slack.ratelimit import SLACK_LIMITS
from sandbox.webhooks import post_signed_webhook  # noqa: F401 - `holdfast sandbox send` (bot/cli/send.py)
from storage import audit, requests
from storage.models import ApprovalRequest, AuditEvent, Job

ROOT = Path(__file__).resolve().parents[2]
SLACK_POST_RATE = SLACK_LIMITS["chat.postMessage"][0]  # type: ignore[index]
# Generated once per process, not per stack: a stack started on the database of an earlier one (a test reopening
# it) must open the token that one sealed.
SECRET_KEY = Fernet.generate_key().decode()


class DevStack:
    """Sandbox Shopify + sandbox Slack + the bot, each on its own loopback port."""

    def __init__(self, *, database_url: str, policies: PolicySet | None = None,
                 now: Callable[[], datetime] | None = None, socket_mode: bool = False, slack_rate_scale: float = 10.0,
                 legacy_token: bool = False, **settings: Any):
        """`slack_rate_scale`: sandbox Slack's rate tiers (on, as on Slack) run this many times faster, and the bot
        paces its posts to match: 10 keeps a test that posts 25 requests to one channel at 2.5 s instead of 25 s,
        with the limits' shape (per channel, per tier, bursts) unchanged; 1.0 is Slack's own pace."""
        self.database_url = database_url
        self.slack_rate_scale = slack_rate_scale
        self.socket_mode = socket_mode  # Slack reaches the bot over Socket Mode instead of /slack/events
        self.now = now  # the bot's clock (timers come due when a test moves it); None: the wall clock
        self.policies = policies or load_file(ROOT / "holdfast.example.yml")
        self.overrides = settings
        # The legacy path (SHOPIFY_SHOPS + SHOPIFY_API_SECRET): asked for, or implied by a test that sets either.
        self.legacy_token = legacy_token or bool({"shopify_shops", "shopify_api_secret"} & set(settings))
        self.secret_key = SECRET_KEY  # HOLDFAST_SECRET_KEY: seals the stored shop token
        self.shopify, self.slack = make_sandboxes(slack_rate_scale=slack_rate_scale)
        # The shop's ShipStation account imports its orders; it shares the bot's clock (today's date for holds).
        self.shipstation = make_shipstation(self.shopify, **({"now": now} if now else {}))
        self._runners: list[web.AppRunner] = []
        self._bot: web.AppRunner | None = None
        self.sim: SlackSimulator | None = None

    async def start(self) -> DevStack:
        """Start the stand-ins, then the bot pointed at them."""
        shopify_runner, self.shopify_port = await serve(self.shopify.make_app())
        slack_runner, self.slack_port = await serve(self.slack.make_app())
        shipstation_runner, self.shipstation_port = await serve(self.shipstation.make_app())
        self._runners += [shopify_runner, slack_runner, shipstation_runner]
        self.slack.base_url = f"http://127.0.0.1:{self.slack_port}"
        await self.start_bot()
        return self

    def settings(self) -> Settings:
        """Settings that point the bot at this stack's stand-ins."""
        values: dict[str, Any] = dict(
            database_url=self.database_url,
            auto_migrate=True,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"http://127.0.0.1:{self.slack_port}/api/",
            shopify_admin_url=f"http://127.0.0.1:{self.shopify_port}/{{shop}}/admin/api/{{version}}/graphql.json",
            shopify_oauth_url=f"http://127.0.0.1:{self.shopify_port}/{{shop}}/admin/oauth",
            secret_key=self.secret_key,
            shopify_timeout_s=2.0,
            slack_timeout_s=2,
            worker_poll_s=0.05,
            job_backoff_base_s=0.05,
            job_backoff_max_s=0.5,
            run_scheduler=False,  # tests run periodic jobs explicitly (bot.jobs.scheduler.run_period)
            # The stand-in limits chat.postMessage per channel as Slack does (1 a second, bursts of 3), scaled:
            # pace at its rate, as holdfast does against Slack by default.
            slack_post_rate=SLACK_POST_RATE * self.slack_rate_scale,
        )
        if self.legacy_token:  # an admin-created custom app of before 2026: its static token and API secret
            values.update(shopify_shops=f"{SHOP}={SHOP_TOKEN}", shopify_api_secret=WEBHOOK_SECRET)
        else:  # the merchant's own store on the client credentials grant (the README's first install path)
            values.update(shopify_client_id=CLIENT_ID, shopify_client_secret=CLIENT_SECRET, shopify_shop=SHOP)
        if self.socket_mode:
            values["slack_app_token"] = self.slack.app_token
        if "shipstation_api_url" in Settings.model_fields:  # the connector's settings (issue #20)
            values.update(shipstation_api_url=f"http://127.0.0.1:{self.shipstation_port}",
                          shipstation_api_keys=f"{SHOP}={SHIPSTATION_KEY}")
        values.update(self.overrides)
        return Settings(**values)

    async def start_bot(self, port: int = 0) -> None:
        """Start (or restart) the bot; its database survives restarts."""
        self.app = create_app(self.settings(), policies=self.policies, socket_mode=self.socket_mode,
                              **({"now": self.now} if self.now else {}))
        self._bot, self.bot_port = await serve(self.app, port)
        self.bot_url = f"http://127.0.0.1:{self.bot_port}"
        self.shopify.shops[SHOP].webhook_url = f"{self.bot_url}/shopify/webhooks"
        if self.sim:
            await self.sim.close()
        self.sim = SlackSimulator(events_url=f"{self.bot_url}/slack/events", signing_secret=SIGNING_SECRET,
                                  slack=self.slack, team_id=TEAM, transport="socket" if self.socket_mode else "http")

    async def stop_bot(self) -> None:
        """Stop the bot (its worker stops with it)."""
        if self._bot:
            await self._bot.cleanup()
            self._bot = None

    async def stop(self) -> None:
        """Stop everything."""
        if self.sim:
            await self.sim.close()
        await self.stop_bot()
        await self.shopify.close()  # webhook retries still waiting, scheduled routings
        for runner in self._runners:
            await runner.cleanup()

    async def __aenter__(self) -> DevStack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def rt(self) -> Runtime:
        """The running bot's runtime (database, policies, clients)."""
        return self.app[RUNTIME]

    async def place_order(self, *, deliver: bool = True, **order: Any):
        """Create an order in the sandbox shop and deliver its signed orders/create webhook."""
        created = self.shopify.create_order(SHOP, **order)
        if deliver:
            status = await self.shopify.deliver_webhook(SHOP, "orders/create", created.webhook_body())
            assert status == 200, f"webhook answered {status}"
        return created

    async def settle(self, timeout: float = 20.0, horizon_s: float = 5.0) -> None:
        """Wait until no job is running or due within `horizon_s` (timers hours away and dead jobs don't count)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            soon = self.rt.now() + timedelta(seconds=horizon_s)
            async with self.rt.sessions() as session:
                busy = (await session.exec(select(func.count()).select_from(Job).where(
                    (Job.status == "running") | ((Job.status == "pending") & (col(Job.run_at) <= soon))))).one()
            if not busy:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"{busy} job(s) still pending after {timeout}s")
            await asyncio.sleep(0.02)

    async def request_for(self, order) -> ApprovalRequest | None:
        """The approval request of a sandbox order, if any."""
        async with self.rt.sessions() as session:
            return await requests.by_order(session, shop=SHOP, order_gid=order.gid)

    async def request_for_id(self, request_id: int) -> ApprovalRequest:
        """A request by id, fresh from the database."""
        async with self.rt.sessions() as session:
            return await requests.get(session, request_id=request_id)

    async def votes(self, request_id: int) -> list[tuple[str, str]]:
        """(user, vote) pairs recorded for a request."""
        async with self.rt.sessions() as session:
            return await requests.votes(session, request_id=request_id)

    async def audit_trail(self, request_id: int | None = None) -> list[AuditEvent]:
        """Audit events (of one request, or all) in chain order."""
        async with self.rt.sessions() as session:
            return [e async for e in audit.iterate(session, request_id=request_id)]

    async def click(self, req: ApprovalRequest, action_id: str, user: str) -> tuple[int, str]:
        """A user clicks a button on the request's Slack message."""
        assert self.sim and req.message_ts, "the request message is not posted"
        return await self.sim.click(req.channel, req.message_ts, action_id, user)

    async def open_modal(self, req: ApprovalRequest, action_id: str, user: str, timeout: float = 5.0) -> dict:
        """Click a button that opens a modal; wait until the bot has filled it in; return the view."""
        before = set(self.slack.views)
        status, body = await self.click(req, action_id, user)
        assert status == 200, body
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            new = [v for vid, v in self.slack.views.items()  # a modal: App Home is published meanwhile too
                   if vid not in before and v["user"] == user and v.get("type") == "modal"]
            if new and not any("Loading" in json.dumps(b) for b in new[-1]["blocks"]):
                return new[-1]
            if loop.time() > deadline:
                raise TimeoutError("the modal was not filled in")
            await asyncio.sleep(0.02)

    async def submit_modal(self, view: dict, user: str, values: dict[str, Any]) -> tuple[int, str]:
        """Submit a decision modal with {field id: value} (select: option value; date: ISO; user: user id)."""
        state = view_state_values(view, values)
        assert self.sim
        return await self.sim.submit_view(view["id"], user, state)

    async def decide(self, req: ApprovalRequest, action_id: str, user: str, **values: Any) -> tuple[int, str]:
        """Vote as a user: a plain click, or through the modal when the button opens one."""
        button = next(e for b in self.slack.message(req.channel, req.message_ts).blocks if b["type"] == "actions"
                      for e in b["elements"] if e.get("action_id") == action_id)
        if '"form":true' not in button.get("value", "").replace(" ", ""):
            return await self.click(req, action_id, user)
        view = await self.open_modal(req, action_id, user)
        return await self.submit_modal(view, user, values)

    async def jobs(self, *, status: str | None = None) -> list[Job]:
        """Jobs, optionally by status."""
        async with self.rt.sessions() as session:
            query = select(Job).order_by(col(Job.id))
            if status:
                query = query.where(Job.status == status)
            return list((await session.exec(query)).all())
