"""`/approvals` and its "more" button: ack at once, answer ephemerally through response_url."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.blocks.ids import ActionId
from bot.blocks.queue import PageRef
from bot.features.reporting import service as reporting
from handlers import runtime

log = logging.getLogger(__name__)
COMMAND = "/approvals"
SORRY = "Sorry, something went wrong answering that; it has been logged. Please try again in a moment."
BACKGROUND: set[asyncio.Task] = set()  # answers being computed after their ack


async def _answer(respond: AsyncRespond, user: str, work: Coroutine[Any, Any, reporting.Reply]) -> None:
    try:
        reply = await work
        await respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
    except Exception:  # the user gets a polite line, operators the traceback
        log.exception("/approvals failed for %s", user)
        await respond(text=SORRY, response_type="ephemeral", replace_original=False)


def later(respond: AsyncRespond, user: str, work: Coroutine[Any, Any, reporting.Reply]) -> None:
    """Answer after the ack.

    The ack goes back to Slack as soon as the listener returns (process_before_response), so the answer is
    computed after it: a slow query never breaks Slack's 3-second window. (bolt's lazy listeners would
    deep-copy the request, client session included, which cannot be copied.)
    """
    task = asyncio.create_task(_answer(respond, user, work))
    BACKGROUND.add(task)
    task.add_done_callback(BACKGROUND.discard)


async def approvals(ack: AsyncAck, body: dict, respond: AsyncRespond, context: Any) -> None:
    """`/approvals …`: queue, history, audit, stats, help."""
    await ack()
    user = body.get("user_id")
    if not isinstance(user, str) or not user:
        return  # not something Slack sends: nobody to answer
    later(respond, user, reporting.run(runtime(context), user=user, text=body.get("text") or ""))


async def next_page(ack: AsyncAck, body: dict, action: dict, respond: AsyncRespond, context: Any) -> None:
    """The "more" button under a page of the queue or of a history."""
    await ack()
    ref = PageRef.parse(action.get("value"))
    if ref is None:
        return  # not our button (or tampered with)
    user = (body.get("user") or {}).get("id")
    if not user:
        return
    later(respond, user, reporting.run(runtime(context), user=user, text=ref.q, page=ref))


def register(app: AsyncApp) -> None:
    """Listen for the slash command and its pagination button."""
    app.command(COMMAND)(approvals)
    app.action(ActionId.MORE.value)(next_page)
