"""Validate what an approver typed into a decision modal against the policy's field specs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.approvals.schema import FieldSpec

BLOCK_PREFIX = "field-"
ACTION = "value"


def block_id(spec: FieldSpec) -> str:
    """The input block that carries this field."""
    return f"{BLOCK_PREFIX}{spec.id}"


def raw_value(state_values: dict[str, Any], spec: FieldSpec) -> Any:
    """The submitted value of one field from `view.state.values`, whatever its element type."""
    element = (state_values.get(block_id(spec)) or {}).get(ACTION) or {}
    if spec.type == "select":
        return (element.get("selected_option") or {}).get("value")
    if spec.type == "date":
        return element.get("selected_date")
    if spec.type == "user":
        return element.get("selected_user")
    return element.get("value")


def _check(spec: FieldSpec, value: Any, today: date) -> tuple[Any, str | None]:
    if value in (None, ""):
        return None, "This field is required." if spec.required else None
    if spec.type in ("text", "multiline"):
        text = str(value).strip()
        if spec.required and not text:
            return None, "This field is required."
        if spec.max_length and len(text) > spec.max_length:
            return None, f"At most {spec.max_length} characters, please ({len(text)} now)."
        return text, None
    if spec.type == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None, "Enter a number, like 42 or 12.50."
        if spec.min is not None and number < Decimal(str(spec.min)):
            return None, f"Must be at least {spec.min:g}."
        if spec.max is not None and number > Decimal(str(spec.max)):
            return None, f"Must be at most {spec.max:g}."
        return str(number), None
    if spec.type == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return None, "Pick a date."
        return day.isoformat(), None
    if spec.type == "select":
        if value not in spec.options:
            return None, "Pick one of the options."
        return value, None
    return str(value), None  # user: Slack only offers real users


def validate(specs: list[FieldSpec], state_values: dict[str, Any], *, today: date) -> tuple[dict[str, Any], dict[str, str]]:
    """(clean values by field id, errors by block id) — errors go back to Slack as `response_action: errors`."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        clean, error = _check(spec, raw_value(state_values, spec), today)
        if error:
            errors[block_id(spec)] = error
        elif clean is not None:
            values[spec.id] = clean
    return values, errors
