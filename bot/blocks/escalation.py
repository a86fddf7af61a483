"""An escalated copy of a request message: a line saying why it is here, then the request with its buttons."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot.blocks import request_message
from bot.blocks.request_message import RequestView


def intro(view: RequestView, waited: str) -> str:
    """Why the copy was sent (shown while the request is pending)."""
    return f":rotating_light: *Escalated:* order {view.order['name']} has waited {waited} for a decision."


def build(view: RequestView, note: str | None) -> list[dict[str, Any]]:
    """The copy's blocks; the buttons are the original's, so a click here decides the same request."""
    blocks = request_message.build(view)
    if note and view.status == "pending":
        return [ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict(), *blocks]
    return blocks
