"""The bolt AsyncApp: the runtime in every listener's context, one error handler, listeners registered by surface.

Slack's signature is checked once, in front of bolt (bot/slack_http.py: size, signature and encoding on the raw
bytes), so bolt's own check is off; Socket Mode needs none (the connection is authenticated).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError

from bot.runtime import Runtime
from handlers import RUNTIME, actions, commands, home, order_request, views

log = logging.getLogger(__name__)


class BotIdentity:
    """bolt's `authorize`: our one bot token, with its identity from auth.test once, never a dropped click.

    bolt's default asks auth.test on the first request and, if Slack answers 429 or 5xx right then, answers
    the click 200 with "installation no longer available" and drops it. The token is ours and fixed, so
    authorisation does not hinge on that call: we retry it briefly and otherwise go on without the ids.
    """

    def __init__(self, rt: Runtime, *, budget_s: float = 1.5):
        self.rt = rt
        self.budget_s = budget_s
        self._known: dict[str, Any] | None = None

    async def _auth_test(self) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget_s
        while True:
            try:
                return dict((await self.rt.slack.auth_test()).data)
            except (SlackApiError, OSError, asyncio.TimeoutError) as exc:
                response = getattr(exc, "response", None)
                retry = float((response.headers or {}).get("Retry-After", 0.2) if response is not None else 0.2)
                if loop.time() + retry > deadline:
                    log.warning("auth.test failed (%s); going on without the bot's ids", type(exc).__name__)
                    return None
                await asyncio.sleep(retry)

    def authorize(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """The function bolt calls (it passes arguments by name, so it must be a plain function)."""

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            if self._known is None:
                self._known = await self._auth_test()
            known = self._known or {}
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id or known.get("team_id"),
                                   bot_token=self.rt.slack.token, bot_user_id=known.get("user_id"),
                                   bot_id=known.get("bot_id"))

        return authorize


def _not_token_skipped(record: logging.LogRecord) -> bool:
    # bolt warns that the client's token "will be ignored" when `authorize` is given, and that `token` "will be
    # unused" when it finds SLACK_BOT_TOKEN in the environment beside the client it was given; ours is that very
    # token both times, so the warnings would only send an operator hunting for a problem that is not there.
    message = record.getMessage()
    return "will be ignored" not in message and "will be unused" not in message


def build_bolt(rt: Runtime) -> AsyncApp:
    """Create the bolt app bound to the runtime's Slack client and register every listener."""
    framework_log = logging.getLogger("slack_bolt.AsyncApp")
    if _not_token_skipped not in framework_log.filters:
        framework_log.addFilter(_not_token_skipped)
    app = AsyncApp(
        client=rt.slack,
        signing_secret=rt.settings.slack_signing_secret.get_secret_value(),
        raise_error_for_unhandled_request=False,
        authorize=BotIdentity(rt).authorize(),
        # bot/slack_http.py verified the request before bolt saw it: checking it again would only cost time.
        request_verification_enabled=False,
        # Answer Slack only once the listener has committed: a 200 then means the click is durably
        # recorded (a crash right after an early ack would lose it). Listeners only touch the database
        # (milliseconds) or open a modal, well inside Slack's 3-second window.
        process_before_response=True,
    )

    @app.middleware
    async def with_runtime(context: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        # Listeners are module-level functions; they find the runtime here (as Dispatch's db_middleware does).
        context[RUNTIME] = rt
        return await next()

    @app.error
    async def on_error(error: Exception, body: dict, response: BoltResponse | None = None) -> None:
        # Never a 5xx to Slack (bolt's default here): Slack would show the user "failed with the error
        # dispatch_failed" and retry events. A slash command gets one sentence back (Slack shows a command's
        # plain-text answer to its user only); other surfaces an empty ack. Operators get the log line.
        user = (body.get("user") or {}).get("id") or body.get("user_id") if isinstance(body, dict) else None
        log.error("slack listener failed for user %s: %s", user, error, exc_info=error)
        if response is not None:
            response.status = 200
            if isinstance(body, dict) and body.get("command"):
                response.body = (f"holdfast could not finish `{body['command']}`: Slack did not take its answer "
                                 f"({type(error).__name__}). Try again in a moment.")
                response.headers["content-type"] = ["text/plain;charset=utf-8"]
            else:
                response.body = ""

    for surface in (actions, views, commands, home, order_request):
        surface.register(app)
    return app
