"""The approval request message: what an approver needs to decide, then what was decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    UserSelectElement,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.ids import ActionId, BlockId, RequestRef
from bot.blocks.money import format_money

MAX_LINES = 5
HEADLINES = {"pending": "needs approval", "approved": "approved", "rejected": "rejected", "expired": "expired",
             "closed": "closed outside holdfast"}
OUTCOMES = {"pending": ":hourglass_flowing_sand: applying in Shopify…", "done": ":white_check_mark: applied in Shopify",
            "failed": ":warning: Shopify refused"}
HOLD_LABELS = {
    "pending": ":hourglass_flowing_sand: placing hold…",
    "placed": ":lock: fulfillment on hold",
    "failed": ":warning: hold NOT placed",
    "waiting": ":hourglass_flowing_sand: not held yet",
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
    progress: str | None = None  # "1 of 2: approved by <@U1>" when several approvals are needed
    fields: str | None = None  # the deciding vote's fields, already rendered as lines
    outcome_state: str | None = None
    outcome_error: str | None = None
    approve_form: bool = False
    reject_form: bool = False
    delegation: bool = False
    assignee: str | None = None
    internal: dict[str, Any] | None = None  # an /order-request: requester, draft state, the order it became


def admin_url(shop: str, legacy_id: str) -> str:
    """Link to the order in the Shopify admin."""
    store = shop.removesuffix(".myshopify.com")
    return f"https://admin.shopify.com/store/{store}/orders/{legacy_id}"


def _escape(text: str) -> str:
    # Slack mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _money(amount: str, currency: str) -> str:
    return format_money(amount, currency)


def _lines(order: dict[str, Any]) -> str:
    items = order.get("line_items") or []
    shown = [f"• {li['quantity']} × {_escape(li['title'])}" + (f" ({_escape(li['sku'])})" if li.get("sku") else "") for li in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        shown.append(f"…and {len(items) - MAX_LINES} more")
    return "\n".join(shown) or "_no line items_"


def _draft_line(view: RequestView) -> str:
    # Drafts have no fulfillment orders to hold: say where the draft stands instead.
    i = view.internal or {}
    if i.get("placed_order_gid"):
        legacy = i["placed_order_gid"].rsplit("/", 1)[-1]
        return f":package: order <{admin_url(view.shop, legacy)}|{_escape(i.get('placed_order_name') or legacy)}> placed"
    return {"open": ":memo: draft order, not placed until approved", "rejected": ":memo: draft kept, tagged as not approved",
            "deleted": ":wastebasket: draft deleted"}.get(i.get("draft_state") or "", ":memo: draft order")


def _hold_line(view: RequestView) -> str:
    if view.internal is not None:
        return _draft_line(view)
    label = HOLD_LABELS.get(view.hold_state, view.hold_state)
    if view.hold_state in ("failed", "waiting") and view.hold_error:
        label += f": {_escape(view.hold_error)}"
    return label


def _outcome(view: RequestView) -> str:
    when = (f"<!date^{int(view.decided_at.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{view.decided_at:%Y-%m-%d %H:%M} UTC>") if view.decided_at else ""
    verb = {"approved": ":white_check_mark: *Approved*", "rejected": ":x: *Rejected*",
            "expired": ":alarm_clock: *Expired*", "closed": ":no_entry_sign: *Closed*"}.get(view.status, view.status)
    who = f" by <@{view.decided_by}>" if view.decided_by and view.decided_by != "holdfast" else ""
    lines = [f"{verb}{who} {when}".strip()]
    if view.fields:
        lines.append(_escape(view.fields))
    if view.outcome_state:
        state = OUTCOMES.get(view.outcome_state, view.outcome_state)
        lines.append(state + (f": {_escape(view.outcome_error)}" if view.outcome_error else ""))
    return "\n".join(lines)


def _decision_buttons(view: RequestView, order_name: str) -> ActionsBlock:
    approve = RequestRef(request_id=view.id, version=view.version, form=view.approve_form).dump()
    reject = RequestRef(request_id=view.id, version=view.version, form=view.reject_form).dump()
    elements: list[Any] = [
        ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=approve, style="primary"),
        ButtonElement(text="Reject", action_id=ActionId.REJECT, value=reject, style="danger",
                      confirm=ConfirmObject(title="Reject this order?",
                                            text=f"Order {order_name} will be rejected as the policy says.",
                                            confirm="Reject", deny="Cancel")),
    ]
    if view.delegation:
        elements.append(UserSelectElement(action_id=ActionId.DELEGATE, placeholder="Hand over to…"))
    return ActionsBlock(block_id=BlockId.DECISION, elements=elements)


def _request_details(o: dict[str, Any]) -> str:
    lines = [f"*Ship to* {_escape(str(o.get('ship_to') or '?'))} · *needed by* {o.get('deliver_by') or '?'}"]
    lines += [f"• {_escape(str(k).replace('_', ' ').capitalize())}: {_escape(str(v))}"
              for k, v in (o.get("fields") or {}).items()]
    return "\n".join(lines)


def text_fallback(view: RequestView) -> str:
    """Notification text (shown where blocks are not)."""
    o = view.order
    return f"Approval needed: order {o['name']} ({_money(o['total_price'], o['currency'])}), policy {view.policy_title}"


def build(view: RequestView) -> list[dict[str, Any]]:
    """Blocks for the request message in its current state."""
    o = view.order
    link = admin_url(view.shop, o["legacy_id"])
    customer = _escape(o.get("customer_name") or o.get("customer_email") or "unknown customer")
    who = "Customer"
    if view.internal is not None:  # an /order-request: the draft, and who asked for it
        link = link.replace("/orders/", "/draft_orders/")
        who, customer = "Requested by", f"<@{view.internal.get('requester')}>"
    blocks = [
        HeaderBlock(text=f"Order {o['name']} {HEADLINES.get(view.status, view.status)}"[:150]),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Order*\n<{link}|{_escape(o['name'])}>"),
                MarkdownTextObject(text=f"*{who}*\n{customer}"),
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
    if view.internal is not None:
        blocks.insert(3, SectionBlock(text=MarkdownTextObject(text=_request_details(o)[:3000])))
    if view.progress:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Approvals: {view.progress}")]))
    if view.status == "pending":
        if view.assignee:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Handed to <@{view.assignee}>")]))
        blocks.append(_decision_buttons(view, o["name"]))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_outcome(view)[:3000])))
    return [b.to_dict() for b in blocks]
