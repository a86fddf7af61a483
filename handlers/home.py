"""App Home: publish the user's Home tab when they open it."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import home
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: AsyncApp, rt: Runtime) -> None:
    """Listen for app_home_opened."""
    background: set[asyncio.Task] = set()

    async def publish(user: str) -> None:
        try:
            await home.publish(rt, user)
        except Exception:  # the user keeps the last Home we drew; operators get the log line
            log.exception("could not publish the App Home of %s", user)

    @app.event("app_home_opened")
    async def opened(ack: AsyncAck, event: dict) -> None:
        await ack()
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str):
            return  # the Messages tab: nothing to draw
        # Drawn after the ack, so Slack never retries the event because the view took a moment.
        task = asyncio.create_task(publish(user))
        background.add(task)
        task.add_done_callback(background.discard)
