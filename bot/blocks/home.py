"""The App Home tab (pure): an approver's waiting requests and recent votes; a manager's week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.mrkdwn import escape
from bot.blocks.queue import QueueItem, item_blocks
from bot.blocks.reports import figures_blocks
from bot.reports.figures import Figures, duration_text

VIEW_BLOCKS = 100  # Slack's limit for a Home tab
HOME_ITEMS = 20  # waiting requests shown with buttons (2 blocks each)
RECENT = 10
OLDEST = 10


@dataclass(frozen=True)
class RecentVote:
    """One of the viewer's own votes."""

    order_name: str
    vote: str
    at: datetime
    status: str


@dataclass(frozen=True)
class ManagerPanel:
    """What a manager sees: the week's figures and the oldest pending requests."""

    figures: Figures
    since: datetime
    until: datetime
    oldest: list[QueueItem]
    titles: dict[str, str]


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:3000]))


def home_view(*, now: datetime, approver: bool, waiting: list[QueueItem], waiting_total: int,
              recent: list[RecentVote], manager: ManagerPanel | None) -> dict[str, Any]:
    """The whole Home view (type "home"), never more than Slack's 100 blocks."""
    blocks: list[Any] = []
    if approver:
        blocks += [HeaderBlock(text="Waiting for your decision")]
        if not waiting:
            blocks.append(_section("Nothing is waiting for you. :tada:"))
        for item in waiting[:HOME_ITEMS]:
            blocks += item_blocks(item, now)
        if waiting_total > HOME_ITEMS:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=f"…and {waiting_total - HOME_ITEMS} more: `/approvals queue mine` lists them all.")]))
        blocks += [DividerBlock(), HeaderBlock(text="Your recent decisions")]
        lines = [f"• {escape(r.order_name)}: you voted *{r.vote}* {duration_text(now - r.at)} ago "
                 f"(now {r.status})" for r in recent[:RECENT]]
        blocks.append(_section("\n".join(lines) or "You have not voted yet."))
    if manager is not None:
        if blocks:
            blocks.append(DividerBlock())
        blocks += figures_blocks(manager.figures, since=manager.since, until=manager.until,
                                 title="This week", titles=manager.titles)
        blocks.append(HeaderBlock(text="Oldest pending requests"))
        shown = [item_blocks(QueueItem(**{**i.__dict__, "buttons": False}), now)[0] for i in manager.oldest[:OLDEST]]
        blocks += shown or [_section("Nothing is pending.")]
    if not blocks:
        blocks = [HeaderBlock(text="holdfast"), _section(
            "holdfast holds flagged Shopify orders until an approver decides in Slack. You are not an approver "
            "or a manager in its policies, so there is nothing here for you. `/approvals help` shows the commands.")]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Updated {now:%Y-%m-%d %H:%M} UTC")]))
    return {"type": "home", "blocks": [b.to_dict() for b in blocks[:VIEW_BLOCKS]]}
