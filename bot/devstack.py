"""The bot wired to the sandbox over real loopback HTTP: used by `holdfast demo`, `holdfast sandbox` and tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import col, func, select

from bot.app import RUNTIME, create_app
from bot.approvals.policies import PolicySet, load_file
from bot.runtime import Runtime
from bot.settings import Settings
from sandbox.devserver import (BOT_TOKEN, CHANNEL, SHOP, SHOP_TOKEN, SIGNING_SECRET, TEAM, WEBHOOK_SECRET,
                               make_sandboxes, serve)
from sandbox.simulator import SlackSimulator
from storage import audit, requests
from storage.models import ApprovalRequest, AuditEvent, Job

ROOT = Path(__file__).resolve().parents[1]


class DevStack:
    """Sandbox Shopify + sandbox Slack + the bot, each on its own loopback port."""

    def __init__(self, *, database_url: str, policies: PolicySet | None = None, **settings: Any):
        self.database_url = database_url
        self.policies = policies or load_file(ROOT / "holdfast.example.yml")
        self.overrides = settings
        self.shopify, self.slack = make_sandboxes()
        self._runners: list[web.AppRunner] = []
        self._bot: web.AppRunner | None = None
        self.sim: SlackSimulator | None = None

    async def start(self) -> DevStack:
        """Start the stand-ins, then the bot pointed at them."""
        shopify_runner, self.shopify_port = await serve(self.shopify.make_app())
        slack_runner, self.slack_port = await serve(self.slack.make_app())
        self._runners += [shopify_runner, slack_runner]
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
            shopify_api_secret=WEBHOOK_SECRET,
            shopify_admin_url=f"http://127.0.0.1:{self.shopify_port}/{{shop}}/admin/api/{{version}}/graphql.json",
            shopify_shops=f"{SHOP}={SHOP_TOKEN}",
            shopify_timeout_s=2.0,
            slack_timeout_s=2,
            worker_poll_s=0.05,
            job_backoff_base_s=0.05,
            job_backoff_max_s=0.5,
        )
        values.update(self.overrides)
        return Settings(**values)

    async def start_bot(self, port: int = 0) -> None:
        """Start (or restart) the bot; its database survives restarts."""
        self.app = create_app(self.settings(), policies=self.policies)
        self._bot, self.bot_port = await serve(self.app, port)
        self.bot_url = f"http://127.0.0.1:{self.bot_port}"
        self.shopify.shops[SHOP].webhook_url = f"{self.bot_url}/shopify/webhooks"
        if self.sim:
            await self.sim.close()
        self.sim = SlackSimulator(events_url=f"{self.bot_url}/slack/events", signing_secret=SIGNING_SECRET,
                                  slack=self.slack, team_id=TEAM)

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

    async def settle(self, timeout: float = 20.0) -> None:
        """Wait until no job is pending or running (dead jobs are final)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self.rt.sessions() as session:
                busy = (await session.exec(select(func.count()).select_from(Job)
                                           .where(col(Job.status).in_(("pending", "running"))))).one()
            if not busy:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"{busy} job(s) still pending after {timeout}s")
            await asyncio.sleep(0.02)

    async def request_for(self, order) -> ApprovalRequest | None:
        """The approval request of a sandbox order, if any."""
        async with self.rt.sessions() as session:
            return await requests.by_order(session, shop=SHOP, order_gid=order.gid)

    async def audit_trail(self, request_id: int | None = None) -> list[AuditEvent]:
        """Audit events (of one request, or all) in chain order."""
        async with self.rt.sessions() as session:
            return [e async for e in audit.iterate(session, request_id=request_id)]

    async def click(self, req: ApprovalRequest, action_id: str, user: str) -> tuple[int, str]:
        """A user clicks a button on the request's Slack message."""
        assert self.sim and req.message_ts, "the request message is not posted"
        return await self.sim.click(req.channel, req.message_ts, action_id, user)

    async def jobs(self, *, status: str | None = None) -> list[Job]:
        """Jobs, optionally by status."""
        async with self.rt.sessions() as session:
            query = select(Job).order_by(col(Job.id))
            if status:
                query = query.where(Job.status == status)
            return list((await session.exec(query)).all())
