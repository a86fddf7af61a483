"""SlackSandbox: the workspace state plus its HTTP app, rate limits, faults and rendering."""

from __future__ import annotations

import time
from typing import Any, Callable

from aiohttp import web

from .faults import FaultPlan
from .ratelimit import SLACK_LIMITS, RateLimiter, scaled
from .reference import manifest_bot_scopes
from .render import render
from .server import build_app
from .socket import SocketHub
from .state import SlackState


class SlackSandbox(SlackState):
    """An in-memory Slack workspace answering the Web API over real HTTP."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        team_id: str = "T0HOLDFAST",
        bot_user_id: str = "U0HOLDBOT",
        clock: Callable[[], float] = time.monotonic,
        rate_limits: dict[str, float | tuple[float, float]] | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        team_domain: str = "holdfast-sandbox",
        app_id: str = "A0HOLDFAST",
        bot_id: str = "B0HOLDFAST",
        app_token: str = "xapp-sandbox",
        bot_scopes: tuple[str, ...] | list[str] | None = None,
        rate_scale: float = 1.0,
    ) -> None:
        """`bot_scopes`: what the bot token was granted (default: manifest.yml's bot scopes, as installing the app
        from it grants). `rate_limits`: per-method limits (default: Slack's tiers, ratelimit.SLACK_LIMITS, made
        `rate_scale` times faster; {} turns limiting off)."""
        super().__init__(bot_token=bot_token, team_id=team_id, bot_user_id=bot_user_id, clock=clock,
                         wall_clock=wall_clock, team_domain=team_domain, app_id=app_id, bot_id=bot_id)
        self.faults = FaultPlan()
        self.limiter = RateLimiter(scaled(SLACK_LIMITS, rate_scale) if rate_limits is None else rate_limits)
        self.bot_scopes: tuple[str, ...] = tuple(manifest_bot_scopes() if bot_scopes is None else bot_scopes)
        self.app_token = app_token  # the app-level token apps.connections.open takes (Socket Mode)
        self.socket = SocketHub(self)

    def make_app(self) -> web.Application:
        """The aiohttp application serving /api/{method}, /response/{id} and /upload/{file_id}."""
        return build_app(self)

    def render(self, message_or_blocks: Any) -> str:
        """A readable plain-text rendering of a message, a view or a list of blocks."""
        return render(message_or_blocks)

    async def socket_deliver(self, kind: str, payload: dict, timeout: float = 5.0, *,
                             accepts_response_payload: bool | None = None) -> dict:
        """Send a Socket Mode envelope ("interactive", "slash_commands", "events_api"); the ack's payload or {}."""
        return await self.socket.deliver(kind, payload, timeout, accepts_response_payload=accepts_response_payload)

    async def drop_socket_connections(self, reason: str | None = None, *, grace: float = 2.0) -> int:
        """Drop every Socket Mode connection: close it, or with `reason` send `disconnect` first."""
        return await self.socket.drop(reason, grace=grace)

    @property
    def socket_connections(self) -> int:
        """Live Socket Mode connections."""
        return self.socket.count

    def calls_to(self, method: str) -> list[dict]:
        """The recorded calls of one Web API method, in order."""
        return [c for c in self.calls if c["method"] == method]
