"""Turning a validation error into one that teaches: a near-miss gets "did you mean", a missing block an example.

Every closed set of names an operator types (policy keys, facts, comparisons, actions such as on_reject) is known
here, from the schema itself or from the condition parser's own list, so a suggestion is always a name that works.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from bot.approvals.conditions import MONEY_FACTS, ConditionError
from bot.approvals.marks import Path, split_path
from bot.approvals.schema import PolicyFile

# One line the operator can paste, for each block or key that must be there (or must be shaped right).
EXAMPLES: dict[tuple[str, str], str] = {
    ("PolicyFile", "policies"): ("policies: [{id: staff-orders, channel: C…, approvers: {users: [U…]}, "
                                 "when: {customer_tag: staff}}]"),
    ("Policy", "id"): "id: staff-orders",
    ("Policy", "channel"): "channel: C…",
    ("Policy", "approvers"): "approvers: {users: [U…]}",
    ("Policy", "when"): "when: {total_price: {gte: 1000}}",
    ("Policy", "fields"): "fields: {approve: [{id: note, label: Note}]}",
    ("Policy", "timers"): "timers: {remind_after: 2h, expire_after: 3d}",
    ("Timers", "escalate_to"): "escalate_to: {channel: C…}",
    ("Policy", "shipstation"): "shipstation: {on_flag: hold, on_approve: {tags: [approved-sample]}}",
    ("ShipStationRules", "on_flag"): "on_flag: {hold: true, tags: [awaiting-approval]}",
    ("ShipStationRules", "on_approve"): 'on_approve: {tags: [approved-sample], warehouse: "Samples room"}',
    ("ShipStationRules", "on_reject"): "on_reject: {keep_hold: true, tags: [rejected]}",
    ("Roles", "managers"): "managers: {users: [U…]}",
    ("FieldSpec", "id"): "id: cost_centre",
    ("FieldSpec", "label"): "label: Cost centre",
    ("SavedAddress", "name"): "name: Ops Team",
    ("SavedAddress", "address1"): "address1: 1 Harbour Street",
    ("SavedAddress", "city"): "city: Portland",
    ("SavedAddress", "country_code"): "country_code: US",
}
HIDDEN = {"condition"}  # compiled from `when`, never written by hand
_LEADING_KEY = re.compile(r"^(\w+)[ :(]")
_SHAPE_ERRORS = {"missing", "dict_type", "model_type", "model_attributes_type", "list_type"}


@dataclass(frozen=True)
class Taught:
    """One problem: the path it names (from the file's root), whether the key itself is wrong, what to say, and
    where to point when that is not the path itself (a missing key: its block; a block's check: the key it names)."""

    path: Path
    key: bool
    message: str
    at: Path | None = None


def suggest(name: Any, choices: list[str]) -> str | None:
    """The closest valid name to a near-miss, if one is close enough to be what was meant."""
    found = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    return found[0] if found else None


def unknown(what: str, name: Any, choices: list[str]) -> str:
    """'unknown fact `customer_tagg`; did you mean `customer_tag`?' (or the whole list when nothing is close)."""
    hint = suggest(name, choices)
    tail = f"did you mean `{hint}`?" if hint else f"expected one of {', '.join(choices)}"
    return f"unknown {what} `{name}`; {tail}"


def _unwrap(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _unwrap(inner[0]) if len(inner) == 1 else tp
    return tp


def model_at(loc: Path, root: type[BaseModel] = PolicyFile) -> type[BaseModel] | None:
    """The schema model found at an error location (list items and dict values stepped through), if any."""
    tp: Any = root
    for seg in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            spec = tp.model_fields.get(seg) if isinstance(seg, str) else None
            if spec is None:
                return None
            tp = spec.annotation
        elif get_origin(tp) is list and isinstance(seg, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def keys_of(model: type[BaseModel]) -> list[str]:
    """The keys an operator may write in this block."""
    return [name for name in model.model_fields if name not in HIDDEN]


def example(loc: Path) -> str | None:
    """The one-line example for the key at `loc`, if it has one."""
    model = model_at(loc[:-1]) if loc else None
    return EXAMPLES.get((model.__name__, str(loc[-1]))) if model else None


def _condition(prefix: Path, exc: ConditionError) -> Taught:
    path = (*prefix, *split_path(exc.path))
    if exc.what and len(path) > len(prefix):
        return Taught(path, True, unknown(exc.what, path[-1], list(exc.choices)))
    message = exc.message
    if message.startswith("expected a mapping with exactly one key"):
        message += "; several conditions go in a list, e.g. `all: [{customer_tag: staff}, {total_price: {gte: 100}}]`"
    return Taught(path, False, message)


def explain(err: dict[str, Any]) -> Taught:
    """One pydantic error (from ValidationError.errors()) as a located, teaching message."""
    loc: Path = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("error"), ConditionError):
        return _condition(loc[:-1], ctx["error"])
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        model = model_at(loc[:-1])
        if model is not None:
            return Taught(loc, True, unknown("key", loc[-1], keys_of(model)))
        return Taught(loc, True, msg)
    if kind == "literal_error":
        hint = suggest(err.get("input"), re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return Taught(loc, False, f"{msg}; did you mean `{hint}`?" if hint else msg)
    if kind in _SHAPE_ERRORS:
        line = example(loc)
        msg = f"{msg}; add it, e.g. `{line}`" if kind == "missing" and line else f"{msg}, e.g. `{line}`" if line else msg
        return Taught(loc, False, msg, at=loc[:-1] if kind == "missing" else None)
    lead = _LEADING_KEY.match(msg)
    model = model_at(loc)
    if lead and model is not None and lead[1] in model.model_fields:
        # A block's own check names the key at fault first ("escalate_to: …"): point there, not at the block.
        return Taught(loc, False, msg, at=(*loc, lead[1]))
    return Taught(loc, False, msg)


def money_equality(spec: Any, path: Path) -> list[Taught]:
    """Money facts compared by bare equality (`total_price: 5000` is exactly 5000.00): almost always meant ≥."""
    found: list[Taught] = []
    if not isinstance(spec, dict):
        return found
    for key, value in spec.items():
        sub = (*path, key)
        if key in ("all", "any") and isinstance(value, list):
            for i, child in enumerate(value):
                found += money_equality(child, (*sub, i))
        elif key == "not":
            found += money_equality(value, sub)
        elif key in MONEY_FACTS and isinstance(value, (int, float, str)) and not isinstance(value, bool):
            shown = str(value)
            found.append(Taught(sub, False, f"`{key}: {shown}` matches only an amount of exactly {shown}; "
                                            f"did you mean `{{gte: {shown}}}`? (write `{{eq: {shown}}}` if exactly "
                                            "is meant)"))
    return found
