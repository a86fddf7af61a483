"""The bolt AsyncApp: signature checks by bolt, one error handler, listeners registered by surface."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from handlers import actions, commands, home, order_request, views

log = logging.getLogger(__name__)


def build_bolt(rt: Runtime) -> AsyncApp:
    """Create the bolt app bound to the runtime's Slack client and register every listener."""
    app = AsyncApp(
        client=rt.slack,
        signing_secret=rt.settings.slack_signing_secret.get_secret_value(),
        raise_error_for_unhandled_request=False,
        # Answer Slack only once the listener has committed: a 200 then means the click is durably
        # recorded (a crash right after an early ack would lose it). Listeners only touch the database
        # (milliseconds) or open a modal, well inside Slack's 3-second window.
        process_before_response=True,
    )

    @app.error
    async def on_error(error: Exception, body: dict) -> None:
        # The user already got their ack; never show them a stack trace. Operators get the log line.
        user = (body.get("user") or {}).get("id") if isinstance(body, dict) else None
        log.error("slack listener failed for user %s: %s", user, error, exc_info=error)

    actions.register(app, rt)
    views.register(app, rt)
    commands.register(app, rt)
    home.register(app, rt)
    order_request.register(app, rt)
    return app
