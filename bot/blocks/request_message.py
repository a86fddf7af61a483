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
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)

from bot.blocks.consequences import CONFIRM_TITLE, Consequences
from bot.blocks.ids import ActionId, BlockId, RequestRef
from bot.blocks.money import format_money
from bot.blocks.mrkdwn import escape

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
    consequences: Consequences | None = None  # what Approve and Reject do, from the policy (None: policy gone)
    applied: str | None = None  # what the decision did once Shopify applied it ("order cancelled, …")
    keeps_hold: bool = False  # decided, and the policy leaves holdfast's hold on the order
    show_shop: bool = False  # holdfast serves more than one shop: say which one this order is from
    shipstation: str | None = None  # "ShipStation: on hold until …" (bot/features/shipstation/line.py); None: off


def admin_url(shop: str, legacy_id: str) -> str:
    """Link to the order in the Shopify admin."""
    store = shop.removesuffix(".myshopify.com")
    return f"https://admin.shopify.com/store/{store}/orders/{legacy_id}"


def _money(amount: str, currency: str) -> str:
    return format_money(amount, currency)


def _lines(order: dict[str, Any]) -> str:
    items = order.get("line_items") or []
    shown = [f"• {li['quantity']} × {escape(li['title'])}" + (f" ({escape(li['sku'])})" if li.get("sku") else "") for li in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        shown.append(f"…and {len(items) - MAX_LINES} more")
    return "\n".join(shown) or "_no line items_"


def _draft_line(view: RequestView) -> str:
    # Drafts have no fulfillment orders to hold: say where the draft stands instead.
    i = view.internal or {}
    if i.get("placed_order_gid"):
        legacy = i["placed_order_gid"].rsplit("/", 1)[-1]
        return f":package: order <{admin_url(view.shop, legacy)}|{escape(i.get('placed_order_name') or legacy)}> placed"
    return {"open": ":memo: draft order, not placed until approved", "rejected": ":memo: draft kept, tagged as not approved",
            "deleted": ":wastebasket: draft deleted"}.get(i.get("draft_state") or "", ":memo: draft order")


def _hold_line(view: RequestView) -> str:
    if view.internal is not None:
        return _draft_line(view)
    label = HOLD_LABELS.get(view.hold_state, view.hold_state)
    if view.hold_state in ("failed", "waiting") and view.hold_error:
        label += f": {escape(view.hold_error)}"
    return label


def _kept(view: RequestView) -> str:
    # Nothing lands in Shopify after such a decision: the hold (or its absence) is the outcome.
    name = escape(view.order["name"])
    if view.hold_state in ("placed", "waiting"):
        return f":lock: hold kept in Shopify: order {name} is not fulfilled until someone releases it there"
    return f":warning: no holdfast hold on order {name}: nothing stops it shipping; hold or cancel it in Shopify"


def _outcome(view: RequestView) -> str:
    when = (f"<!date^{int(view.decided_at.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{view.decided_at:%Y-%m-%d %H:%M} UTC>") if view.decided_at else ""
    verb = {"approved": ":white_check_mark: *Approved*", "rejected": ":x: *Rejected*",
            "expired": ":alarm_clock: *Expired*", "closed": ":no_entry_sign: *Closed*"}.get(view.status, view.status)
    who = f" by <@{view.decided_by}>" if view.decided_by and view.decided_by != "holdfast" else ""
    lines = [f"{verb}{who} {when}".strip()]
    if view.fields:
        lines.append(view.fields)  # mrkdwn already: machine.fields_text escapes what was typed
    if view.outcome_state:
        state = OUTCOMES.get(view.outcome_state, view.outcome_state)
        if view.outcome_state == "done" and view.applied:
            state += f": {escape(view.applied)}"
        lines.append(state + (f": {escape(view.outcome_error)}" if view.outcome_error else ""))
    elif view.keeps_hold:
        lines.append(_kept(view))
    return "\n".join(lines)


def _confirm(title: str, text: str, verb: str, style: str) -> ConfirmObject:
    # plain_text: an order name or a tag is never read as mrkdwn; Slack's limits are in bot/blocks/consequences.py.
    return ConfirmObject(title=title[:CONFIRM_TITLE], text=PlainTextObject(text=text), confirm=verb, deny="Cancel",
                         style=style)


def _decision_buttons(view: RequestView, order_name: str) -> ActionsBlock:
    approve = RequestRef(request_id=view.id, version=view.version, form=view.approve_form).dump()
    reject = RequestRef(request_id=view.id, version=view.version, form=view.reject_form).dump()
    said = view.consequences
    what = "draft" if view.internal is not None else "order"
    # Approving is one click unless it does more than release a hold (a draft becomes an order).
    asks = _confirm(f"Approve {what} {order_name}?", said.approve, "Approve", "primary") if (
        said is not None and said.approve_asks) else None
    reject_text = said.reject if said is not None else f"Order {order_name} will be rejected as its policy says."
    elements: list[Any] = [
        ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=approve, style="primary", confirm=asks),
        ButtonElement(text="Reject", action_id=ActionId.REJECT, value=reject, style="danger",
                      confirm=_confirm(f"Reject {what} {order_name}?", reject_text, "Reject", "danger")),
    ]
    if view.delegation:
        elements.append(UserSelectElement(action_id=ActionId.DELEGATE, placeholder="Hand over to…"))
    return ActionsBlock(block_id=BlockId.DECISION, elements=elements)


def _request_details(o: dict[str, Any]) -> str:
    lines = [f"*Ship to* {escape(str(o.get('ship_to') or '?'))} · *needed by* {o.get('deliver_by') or '?'}"]
    lines += [f"• {escape(str(k).replace('_', ' ').capitalize())}: {escape(str(v))}"
              for k, v in (o.get("fields") or {}).items()]
    return "\n".join(lines)


def text_fallback(view: RequestView) -> str:
    """Notification text (shown where blocks are not, and read by screen readers): it says the message's state."""
    o = view.order
    what = f"order {o['name']} ({_money(o['total_price'], o['currency'])}), policy {view.policy_title}"
    if view.status == "pending":
        return f"Approval needed: {what}"
    by_holdfast = not view.decided_by or view.decided_by == "holdfast"
    head = {"approved": "Approved", "rejected": "Rejected", "expired": "Expired without a decision",
            "closed": "Closed outside holdfast"}.get(view.status, view.status.capitalize())
    if view.status in ("approved", "rejected"):
        head += " on expiry" if by_holdfast else f" by <@{view.decided_by}>"
    tail = "; Shopify refused it" if view.outcome_state == "failed" else ""
    return f"{head}: {what}{tail}"


def build(view: RequestView) -> list[dict[str, Any]]:
    """Blocks for the request message in its current state."""
    o = view.order
    link = admin_url(view.shop, o["legacy_id"])
    customer = escape(o.get("customer_name") or o.get("customer_email") or "unknown customer")
    who = "Customer"
    if view.internal is not None:  # an /order-request: the draft, and who asked for it
        link = link.replace("/orders/", "/draft_orders/")
        who, customer = "Requested by", f"<@{view.internal.get('requester')}>"
    facts = [
        MarkdownTextObject(text=f"*Order*\n<{link}|{escape(o['name'])}>"),
        MarkdownTextObject(text=f"*{who}*\n{customer}"),
        MarkdownTextObject(text=f"*Total*\n{_money(o['total_price'], o['currency'])}"),
    ]
    if view.internal is None:  # a request's own ship-to is in its details below
        country = o.get("shipping_country")
        facts.append(MarkdownTextObject(text=f"*Ships to*\n{escape(str(country)) if country else 'no shipping address'}"))
    if view.show_shop:  # one shop served: naming it on every message says nothing
        facts.append(MarkdownTextObject(text=f"*Shop*\n{escape(view.shop)}"))
    blocks = [
        HeaderBlock(text=f"Order {o['name']} {HEADLINES.get(view.status, view.status)}"[:150]),
        SectionBlock(fields=facts),
        SectionBlock(text=MarkdownTextObject(text=_lines(o)[:3000])),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Flagged by* {escape(view.policy_title)}: " + escape("; ".join(view.reasons) or "matched")
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=_hold_line(view))]),
    ]
    if view.shipstation:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(view.shipstation)[:3000])]))
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
