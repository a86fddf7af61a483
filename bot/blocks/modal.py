"""Decision modals: a placeholder opened at once, then the form (or the reason it cannot be shown)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.approvals.fields import ACTION, block_id
from bot.approvals.schema import FieldSpec
from bot.blocks.ids import CallbackId, DecisionMeta
from bot.blocks.mrkdwn import escape

TITLES = {"approve": "Approve order", "reject": "Reject order"}


def _element(spec: FieldSpec):
    placeholder = spec.placeholder
    if spec.type in ("text", "multiline"):
        return PlainTextInputElement(action_id=ACTION, multiline=spec.type == "multiline", placeholder=placeholder,
                                     max_length=spec.max_length)
    if spec.type == "number":
        return NumberInputElement(action_id=ACTION, is_decimal_allowed=True, placeholder=placeholder,
                                  min_value=None if spec.min is None else f"{spec.min:g}",
                                  max_value=None if spec.max is None else f"{spec.max:g}")
    if spec.type == "date":
        return DatePickerElement(action_id=ACTION, placeholder=placeholder)
    if spec.type == "select":
        return StaticSelectElement(action_id=ACTION, placeholder=placeholder or "Choose…",
                                   options=[Option(text=o[:75], value=o[:150]) for o in spec.options])
    return UserSelectElement(action_id=ACTION, placeholder=placeholder or "Choose someone…")


def loading(meta: DecisionMeta) -> dict[str, Any]:
    """Opened the instant the button is clicked, while we load the request (Slack's trigger lives 3 s)."""
    return View(type="modal", callback_id=CallbackId.DECISION, title=TITLES[meta.vote], private_metadata=meta.dump(),
                blocks=[SectionBlock(text=MarkdownTextObject(text=":hourglass_flowing_sand: Loading the request…"))]
                ).to_dict()


def form(meta: DecisionMeta, *, order_name: str, summary: str, specs: list[FieldSpec],
         consequence: str | None = None) -> dict[str, Any]:
    """The fields the policy asks for, with a submit button, and what submitting does (bot/blocks/consequences.py)."""
    verb = "Approve" if meta.vote == "approve" else "Reject"
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=f"*{verb} order {order_name}*\n{summary}"[:3000]))]
    for spec in specs:
        blocks.append(InputBlock(block_id=block_id(spec), label=spec.label, element=_element(spec),
                                 optional=not spec.required))
    if consequence or meta.vote == "reject":
        said = escape(consequence) if consequence else "What happens to the order follows the policy."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=said[:3000])]))
    return View(type="modal", callback_id=CallbackId.DECISION, title=TITLES[meta.vote], submit=verb, close="Cancel",
                private_metadata=meta.dump(), blocks=blocks).to_dict()


def notice(meta: DecisionMeta, text: str) -> dict[str, Any]:
    """A modal that only explains (refused, already decided): no submit button."""
    return View(type="modal", callback_id=CallbackId.DECISION, title=TITLES[meta.vote], close="Close",
                private_metadata=meta.dump(), blocks=[SectionBlock(text=MarkdownTextObject(text=text[:3000]))]).to_dict()
