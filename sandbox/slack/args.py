"""Reading Web API arguments that arrive as JSON values or as form strings."""

from __future__ import annotations

import json
from typing import Any

from .state import SlackError


def flag(args: dict, key: str) -> bool:
    """A boolean argument: true/1 (form) or true (JSON)."""
    value = args.get(key)
    if isinstance(value, str):
        return value.lower() in ("1", "true")
    return bool(value)


def required(args: dict, key: str, error: str = "invalid_arguments") -> Any:
    """A required argument, or the refusal Slack gives when it is missing."""
    value = args.get(key)
    if value in (None, ""):
        raise SlackError(error)
    return value


def json_arg(args: dict, key: str, error: str) -> Any:
    """An argument that is JSON: a list/dict in JSON bodies, a JSON string in form bodies."""
    value = args.get(key)
    if value is None or isinstance(value, (list, dict)):
        return value
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    raise SlackError(error)


def int_arg(args: dict, key: str, default: int) -> int:
    """An integer argument (form values are strings)."""
    value = args.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments") from None
