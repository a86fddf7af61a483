"""The queue (pure): pending requests with Approve/Reject buttons, paginated under Slack's block limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.consequences import CONFIRM_TITLE
from bot.blocks.ids import ActionId, BlockId, RequestRef
from bot.blocks.money import format_money
from bot.blocks.mrkdwn import escape
from bot.blocks.request_message import admin_url
from bot.reports.figures import duration_text

MESSAGE_BLOCKS = 50  # Slack's limit for a message (a response_url reply included)
ITEM_BLOCKS = 2  # a section and its buttons
FIXED_BLOCKS = 3  # header, filter line, "more" button
PAGE_SIZE = (MESSAGE_BLOCKS - FIXED_BLOCKS) // ITEM_BLOCKS


class PageRef(BaseModel):
    """What a "more" button carries: the command text and where the shown page ended."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    q: str = Field(max_length=1500)
    at: datetime | None = None  # queue: created_at of the last request shown
    id: int = 0  # queue: its id; history: the last audit event shown

    def dump(self) -> str:
        """Compact JSON for a button value (≤ 2,000 chars)."""
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def parse(cls, raw: str | None) -> PageRef | None:
        """Parse a button value; None when it is not ours or is malformed."""
        try:
            return cls.model_validate_json(raw) if raw else None
        except ValidationError:
            return None


@dataclass(frozen=True)
class QueueItem:
    """A pending request as a list shows it."""

    id: int
    version: int
    shop: str
    order_name: str
    legacy_id: str | None
    total: str
    currency: str
    policy_title: str
    created_at: datetime
    votes: str | None = None  # "1 of 2: approved by <@U1>"
    approve_form: bool = False
    reject_form: bool = False
    buttons: bool = True
    reject_said: str | None = None  # what rejecting does (bot/blocks/consequences.py), for the confirmation


def _money(amount: str, currency: str) -> str:
    return format_money(amount, currency)


def item_blocks(item: QueueItem, now: datetime) -> list[Any]:
    """A request's line and, when the viewer may decide, the same buttons as the channel message."""
    order = escape(item.order_name)
    if item.legacy_id:
        order = f"<{admin_url(item.shop, item.legacy_id)}|{order}>"
    line = (f"*{order}* · {_money(item.total, item.currency)} · {escape(item.policy_title)}\n"
            f"waiting {duration_text(now - item.created_at)} · {escape(item.shop)}"
            + (f" · {item.votes}" if item.votes else " · no votes yet"))
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=line[:3000]))]
    if item.buttons:
        approve = RequestRef(request_id=item.id, version=item.version, form=item.approve_form).dump()
        reject = RequestRef(request_id=item.id, version=item.version, form=item.reject_form).dump()
        blocks.append(ActionsBlock(block_id=f"{BlockId.QUEUE_ITEM}-{item.id}", elements=[
            ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=approve, style="primary"),
            ButtonElement(text="Reject", action_id=ActionId.REJECT, value=reject, style="danger",
                          confirm=ConfirmObject(title=f"Reject order {item.order_name}?"[:CONFIRM_TITLE],
                                                text=PlainTextObject(text=item.reject_said or (
                                                    f"Order {item.order_name[:200]} will be rejected as its policy "
                                                    "says.")),
                                                confirm="Reject", deny="Cancel", style="danger")),
        ]))
    return blocks


def more_button(ref: PageRef, label: str = "More") -> ActionsBlock:
    """The button that fetches the next page."""
    return ActionsBlock(elements=[ButtonElement(text=label, action_id=ActionId.MORE, value=ref.dump())])


def queue_blocks(items: list[QueueItem], now: datetime, *, filters: str, more: PageRef | None,
                 first: bool = True) -> list[dict[str, Any]]:
    """One page of the queue: at most PAGE_SIZE requests, and a "more" button when others follow."""
    items = items[:PAGE_SIZE]
    title = "Waiting for a decision" if first else "Waiting for a decision (continued)"
    blocks: list[Any] = [HeaderBlock(text=title)]
    if not items:
        text = "Nothing is waiting for you." if first else "No more requests."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"{text} {filters}".strip())))
        return [b.to_dict() for b in blocks]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=(f"Oldest first. {filters}").strip())]))
    for item in items:
        blocks += item_blocks(item, now)
    if more is not None:
        blocks.append(more_button(more, f"Next {PAGE_SIZE}"))
    return [b.to_dict() for b in blocks]
