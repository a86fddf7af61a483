"""Shopify search syntax (a useful subset) and cursor pagination for connections."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from graphql import GraphQLError

_TERM = re.compile(
    r"""(?P<neg>-)?(?:(?P<field>\w+):(?P<op>>=|<=|>|<|=)?)?(?P<value>'[^']*'|"[^"]*"|[^\s()]+)"""
)

# A searchable attribute: its kind ("date", "number", "text", "list", "predicate") and getter;
# a "predicate" getter returns a function of the searched value.
Field = tuple[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class Term:
    field: str | None  # None: free text
    op: str
    value: str
    negate: bool = False


def parse_query(query: str | None) -> list[list[Term]]:
    """Parse a search string into OR-groups of AND-ed terms (AND is implicit between terms)."""
    groups: list[list[Term]] = [[]]
    for m in _TERM.finditer(query or ""):
        value = m["value"]
        if m["field"] is None and value in ("AND", "OR"):
            if value == "OR":
                groups.append([])
            continue
        value = value[1:-1] if value[:1] in "'\"" and value[-1:] == value[:1] else value
        groups[-1].append(Term(m["field"], m["op"] or "=", value, bool(m["neg"])))
    return [g for g in groups if g] or [[]]


def unknown_fields(groups: list[list[Term]], fields: dict[str, Field]) -> list[str]:
    """Field names Shopify would ignore with an 'Invalid search field' warning."""
    return sorted({t.field for g in groups for t in g if t.field and t.field not in fields})


def _parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise GraphQLError(f"Invalid date in search query: {value}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if actual is None:
        return False
    return {
        "=": actual == wanted, ">": actual > wanted, ">=": actual >= wanted,
        "<": actual < wanted, "<=": actual <= wanted,
    }[op]


def _text_match(actual: Any, wanted: str) -> bool:
    if actual is None:
        return False
    actual, wanted = str(actual).lower(), wanted.lower()
    return actual.startswith(wanted[:-1]) if wanted.endswith("*") else actual == wanted


def _term_matches(item: Any, term: Term, fields: dict[str, Field], free_text: Callable[[Any], list[str]]) -> bool:
    if term.field is None:
        return any(term.value.lower() in s.lower() for s in free_text(item) if s)
    if term.field not in fields:
        return True  # Shopify ignores unknown fields (and warns)
    kind, getter = fields[term.field]
    actual = getter(item)
    if kind == "date":
        return _compare(actual, term.op, _parse_time(term.value))
    if kind == "number":
        return _compare(actual, term.op, int(term.value)) if term.value.isdigit() else False
    if kind == "list":
        return any(_text_match(v, term.value) for v in actual)
    if kind == "predicate":
        return bool(actual(term.value.lower()))
    return _text_match(actual, term.value)


def matches(item: Any, groups: list[list[Term]], fields: dict[str, Field], free_text: Callable[[Any], list[str]]) -> bool:
    """Whether `item` satisfies the parsed search."""
    return any(
        all(_term_matches(item, t, fields, free_text) != t.negate for t in group) for group in groups
    )


def _cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"last": list(key)}).encode()).decode()


def _uncursor(cursor: str) -> tuple[Any, ...]:
    try:
        return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode()))["last"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from exc


def paginate(
    items: Sequence[Any],
    key: Callable[[Any], tuple[Any, ...]],
    *,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
    reverse: bool = False,
    **_: Any,
) -> dict[str, Any]:
    """A connection (edges, nodes, pageInfo) over `items` sorted by `key`."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    ordered = sorted(items, key=key, reverse=reverse)
    keyed = [(key(i), i) for i in ordered]

    def later(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
        return a < b if reverse else a > b

    if after is not None:
        mark = _uncursor(after)
        keyed = [(k, i) for k, i in keyed if later(k, mark)]
    if before is not None:
        mark = _uncursor(before)
        keyed = [(k, i) for k, i in keyed if later(mark, k)]
    has_next = before is not None
    has_prev = after is not None
    if first is not None and len(keyed) > max(first, 0):
        keyed, has_next = keyed[: max(first, 0)], True
    if last is not None and len(keyed) > max(last, 0):
        keyed, has_prev = keyed[len(keyed) - max(last, 0):], True
    edges = [{"cursor": _cursor(k), "node": i} for k, i in keyed]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
