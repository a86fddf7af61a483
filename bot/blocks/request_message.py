"""The approval request message: what an approver needs to decide, then what was decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.ids import ActionId, BlockId, RequestRef

MAX_LINES = 5
HEADLINES = {"pending": "needs approval", "approved": "approved", "rejected": "rejected"}
HOLD_LABELS = {
    "pending": ":hourglass_flowing_sand: placing hold…",
    "placed": ":lock: fulfillment on hold",
    "failed": ":warning: hold NOT placed",
    "released": ":unlock: hold released",
}


@dataclass(frozen=True)
class RequestView:
    """A stored request as the message shows it."""

    id: int
    version: int
    shop: str
    status: str
    policy_title: str
    reasons: tuple[str, ...]
    order: dict[str, Any]
    hold_state: str
    hold_error: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


def admin_url(shop: str, legacy_id: str) -> str:
    """Link to the order in the Shopify admin."""
    store = shop.removesuffix(".myshopify.com")
    return f"https://admin.shopify.com/store/{store}/orders/{legacy_id}"


def _escape(text: str) -> str:
    # Slack mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _money(amount: str, currency: str) -> str:
    return f"{float(amount):,.2f} {currency}"


def _lines(order: dict[str, Any]) -> str:
    items = order.get("line_items") or []
    shown = [f"• {li['quantity']} × {_escape(li['title'])}" + (f" ({_escape(li['sku'])})" if li.get("sku") else "") for li in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        shown.append(f"…and {len(items) - MAX_LINES} more")
    return "\n".join(shown) or "_no line items_"


def _hold_line(view: RequestView) -> str:
    label = HOLD_LABELS.get(view.hold_state, view.hold_state)
    if view.hold_state == "failed" and view.hold_error:
        label += f": {_escape(view.hold_error)}"
    return label


def _outcome(view: RequestView) -> str:
    when = f"<!date^{int(view.decided_at.timestamp())}^{{date_short_pretty}} {{time}}|{view.decided_at:%Y-%m-%d %H:%M} UTC>" if view.decided_at else ""
    verb = {"approved": ":white_check_mark: *Approved*", "rejected": ":x: *Rejected*"}.get(view.status, view.status)
    who = f" by <@{view.decided_by}>" if view.decided_by else ""
    return f"{verb}{who} {when}".strip()


def text_fallback(view: RequestView) -> str:
    """Notification text (shown where blocks are not)."""
    o = view.order
    return f"Approval needed: order {o['name']} ({_money(o['total_price'], o['currency'])}), policy {view.policy_title}"


def build(view: RequestView) -> list[dict[str, Any]]:
    """Blocks for the request message in its current state."""
    o = view.order
    link = admin_url(view.shop, o["legacy_id"])
    customer = _escape(o.get("customer_name") or o.get("customer_email") or "unknown customer")
    blocks = [
        HeaderBlock(text=f"Order {o['name']} {HEADLINES.get(view.status, view.status)}"[:150]),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Order*\n<{link}|{_escape(o['name'])}>"),
                MarkdownTextObject(text=f"*Customer*\n{customer}"),
                MarkdownTextObject(text=f"*Total*\n{_money(o['total_price'], o['currency'])}"),
                MarkdownTextObject(text=f"*Shop*\n{_escape(view.shop)}"),
            ]
        ),
        SectionBlock(text=MarkdownTextObject(text=_lines(o)[:3000])),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Flagged by* {_escape(view.policy_title)}: " + _escape("; ".join(view.reasons) or "matched")
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=_hold_line(view))]),
    ]
    if view.status == "pending":
        ref = RequestRef(request_id=view.id, version=view.version).dump()
        blocks.append(
            ActionsBlock(
                block_id=BlockId.DECISION,
                elements=[
                    ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=ref, style="primary"),
                    ButtonElement(
                        text="Reject",
                        action_id=ActionId.REJECT,
                        value=ref,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Reject this order?",
                            text=f"Order {o['name']} stays on hold and is tagged rejected.",
                            confirm="Reject",
                            deny="Cancel",
                        ),
                    ),
                ],
            )
        )
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_outcome(view))))
    return [b.to_dict() for b in blocks]
