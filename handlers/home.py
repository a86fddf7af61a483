"""App Home: publish the user's Home tab when they open it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.features.home import service as home
from bot.runtime import Runtime
from handlers import runtime

log = logging.getLogger(__name__)
BACKGROUND: set[asyncio.Task] = set()  # Homes being drawn after their event was acked


async def publish(rt: Runtime, user: str) -> None:
    """Draw and publish one Home; a failure keeps the last Home we drew."""
    try:
        await home.publish(rt, user)
    except Exception:  # the user keeps the last Home we drew; operators get the log line
        log.exception("could not publish the App Home of %s", user)


async def opened(ack: AsyncAck, event: dict, context: Any) -> None:
    """app_home_opened: draw the Home tab (not the Messages tab)."""
    await ack()
    user = event.get("user")
    if event.get("tab", "home") != "home" or not isinstance(user, str):
        return  # the Messages tab: nothing to draw
    # Drawn after the ack, so Slack never retries the event because the view took a moment.
    task = asyncio.create_task(publish(runtime(context), user))
    BACKGROUND.add(task)
    task.add_done_callback(BACKGROUND.discard)


def register(app: AsyncApp) -> None:
    """Listen for app_home_opened."""
    app.event("app_home_opened")(opened)
