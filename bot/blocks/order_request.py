"""/order-request: the modal, its search options, the requester's DM and the status list."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.approvals import internal
from bot.approvals.schema import Policy
from bot.blocks.ids import ActionId, BlockId, CallbackId, OrderRef, OrderRequestMeta
from bot.blocks.modal import _element as field_element
from bot.blocks.money import format_money
from bot.approvals.fields import block_id as field_block
from bot.blocks.request_message import admin_url


class InternalRequest(Protocol):
    """What the requester's DM and status list show of a stored internal request (storage's row has it all)."""

    id: int | None
    shop_domain: str
    status: str
    order_name: str
    order_snapshot: dict[str, Any]
    request_input: dict[str, Any] | None
    draft_state: str | None
    draft_error: str | None
    outcome_state: str | None
    outcome_error: str | None
    placed_order_gid: str | None
    placed_order_name: str | None
    created_at: datetime

TITLE = "Request an order"
STATES = {
    ("drafting", "creating"): ":hourglass_flowing_sand: creating the draft order in Shopify…",
    ("drafting", "failed"): ":warning: Shopify could not create the draft",
    ("pending", "open"): ":hourglass_flowing_sand: waiting for approval",
    ("approved", "open"): ":hourglass_flowing_sand: approved; placing the order in Shopify…",
    ("approved", "completed"): ":white_check_mark: approved; order placed",
    ("rejected", None): ":x: rejected",
    ("expired", None): ":alarm_clock: expired",
    ("cancelled", None): ":no_entry_sign: cancelled by you",
}


def block(key: str) -> str:
    """The block carrying an input; `key` is bot.approvals.internal's error key (item-0, address, field-x …)."""
    return key if key.startswith("field-") else f"{BlockId.ORDER}-{key}"


def modal(meta: OrderRequestMeta, policy: Policy, *, shops: list[str]) -> dict[str, Any]:
    """The request form: shop (when several), product rows, ship-to, date, and the policy's fields."""
    assert policy.internal is not None
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(
        text=f"Ask for an internal order. *{policy.title}* approvers decide; you are told in a DM."))]
    if len(shops) > 1:
        blocks.append(InputBlock(block_id=block("shop"), label="Shop", element=StaticSelectElement(
            action_id=ActionId.ORDER_INPUT, placeholder="Choose a shop…",
            options=[Option(text=s[:75], value=s[:150]) for s in shops])))
    for n in range(internal.ITEM_ROWS):
        blocks.append(InputBlock(block_id=block(f"item-{n}"), label=f"Product {n + 1}", optional=n > 0,
                                 element=ExternalDataSelectElement(action_id=ActionId.ORDER_PRODUCT,
                                                                   placeholder="Type a name or SKU…", min_query_length=2)))
        blocks.append(InputBlock(block_id=block(f"qty-{n}"), label=f"Quantity {n + 1}", optional=True,
                                 element=NumberInputElement(action_id=ActionId.ORDER_QUANTITY, is_decimal_allowed=False,
                                                            initial_value="1")))
    saved = [Option(text=label[:75], value=label[:150]) for label in policy.internal.addresses]
    blocks.append(InputBlock(block_id=block("address"), label="Ship to", optional=True, element=StaticSelectElement(
        action_id=ActionId.ORDER_INPUT, placeholder="A saved address…",
        options=[*saved, Option(text="The address typed below", value=internal.TYPED)])))
    blocks.append(InputBlock(block_id=block("address-text"), label="Or type the address", optional=True,
                             element=PlainTextInputElement(action_id=ActionId.ORDER_INPUT, multiline=True,
                                                           placeholder="Name\nStreet\nPostcode City\nCountry code")))
    blocks.append(InputBlock(block_id=block("deliver-by"), label="Needed by",
                             element=DatePickerElement(action_id=ActionId.ORDER_INPUT)))
    for spec in policy.internal.fields:
        blocks.append(InputBlock(block_id=field_block(spec), label=spec.label, element=field_element(spec),
                                 optional=not spec.required))
    return View(type="modal", callback_id=CallbackId.ORDER_REQUEST, title=TITLE, submit="Request", close="Cancel",
                private_metadata=meta.dump(), blocks=blocks).to_dict()


def notice(text: str) -> dict[str, Any]:
    """A modal that only explains (no internal-order policy, nothing to order from)."""
    return View(type="modal", callback_id=CallbackId.ORDER_REQUEST, title=TITLE, close="Close",
                blocks=[SectionBlock(text=MarkdownTextObject(text=text[:3000]))]).to_dict()


def options(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """block_suggestion answer: one option per variant (value = its gid)."""
    return [Option(text=internal.option_text(n), value=n["id"]).to_dict() for n in nodes[:100]]


def _value(state: dict[str, Any], key: str) -> Any:
    element = next(iter((state.get(block(key)) or {}).values()), None) or {}
    if "selected_option" in element:
        return (element.get("selected_option") or {}).get("value")
    if "selected_date" in element:
        return element.get("selected_date")
    return element.get("value")


def read(state: dict[str, Any]) -> internal.RawForm:
    """The modal's view.state.values as the core's RawForm."""
    items = tuple((_value(state, f"item-{n}"), _value(state, f"qty-{n}")) for n in range(internal.ITEM_ROWS))
    return internal.RawForm(shop=_value(state, "shop"), items=items, address=_value(state, "address"),
                            address_text=_value(state, "address-text"), deliver_by=_value(state, "deliver-by"),
                            field_state=state)


def errors(found: dict[str, str]) -> dict[str, str]:
    """The core's errors keyed by block id, for `response_action: errors`."""
    return {block(k): v for k, v in found.items()}


def _state_line(req: InternalRequest) -> str:
    key = (req.status, req.draft_state if req.status in ("drafting", "pending", "approved") else None)
    line = STATES.get(key, f"{req.status} ({req.draft_state})")
    if req.draft_state == "failed" and req.draft_error:
        line += f": {req.draft_error}"
    if req.outcome_state == "failed":
        line = f":warning: approved, but Shopify did not place the order: {req.outcome_error or 'unknown error'}"
    return line


def _links(req: InternalRequest) -> str:
    snap = req.order_snapshot or {}
    parts = []
    if snap.get("legacy_id"):
        store = req.shop_domain.removesuffix(".myshopify.com")
        parts.append(f"draft <https://admin.shopify.com/store/{store}/draft_orders/{snap['legacy_id']}|{req.order_name}>")
        parts.append(format_money(snap["total_price"], snap.get("currency", "")))
    if req.placed_order_gid:
        legacy = req.placed_order_gid.rsplit("/", 1)[-1]
        parts.append(f"order <{admin_url(req.shop_domain, legacy)}|{req.placed_order_name}>")
    return " · ".join(parts)


def dm(req: InternalRequest) -> dict[str, Any]:
    """The requester's DM: what they asked for, where it stands, Cancel while undecided, Retry after a failure."""
    sub = req.request_input or {}
    head = f"*Your order request #{req.id}* ({req.shop_domain}, needed by {sub.get('deliver_by', '?')})"
    body = "\n".join(x for x in (head, _links(req), _state_line(req)) if x)
    blocks: list[Any] = [SectionBlock(block_id=f"{BlockId.ORDER}-dm", text=MarkdownTextObject(text=body[:3000]))]
    ref = OrderRef(request_id=req.id).dump()
    buttons = []
    if req.status in ("drafting", "pending"):
        buttons.append(ButtonElement(text="Cancel request", action_id=ActionId.ORDER_CANCEL, value=ref, style="danger",
                                     confirm=ConfirmObject(title="Cancel this request?", text="The draft is withdrawn.",
                                                           confirm="Cancel it", deny="Keep it")))
    if (req.status == "drafting" and req.draft_state == "failed") or req.outcome_state == "failed":
        buttons.append(ButtonElement(text="Retry", action_id=ActionId.ORDER_RETRY, value=ref, style="primary"))
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.ORDER_ACTIONS, elements=buttons))
    return {"text": f"Order request #{req.id}: {_state_line(req)}"[:3000], "blocks": [b.to_dict() for b in blocks]}


def status_list(reqs: list[InternalRequest]) -> tuple[str, list[dict[str, Any]]]:
    """`/order-request status`: the caller's requests, newest first."""
    if not reqs:
        return "You have no order requests yet. `/order-request` asks for one.", []
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=f"*Your order requests* ({len(reqs)})")), DividerBlock()]
    for req in reqs[:20]:
        when = f"{req.created_at:%Y-%m-%d}"
        text = f"*#{req.id}* {when} · {_links(req) or req.shop_domain}\n{_state_line(req)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text[:3000])))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Cancel or retry from the DM holdfast sent you.")]))
    return f"You have {len(reqs)} order request(s).", [b.to_dict() for b in blocks]
