"""The condition language: parse YAML condition trees and evaluate them against `OrderFacts`."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.approvals.orders import OrderFacts

# fact name -> (kind, getter). "number" compares, "text" matches one value, "set" asks membership.
FACTS: dict[str, tuple[str, Callable[[OrderFacts], Any]]] = {
    "total_price": ("number", lambda o: o.total_price),
    "subtotal_price": ("number", lambda o: o.subtotal_price),
    "total_discounts": ("number", lambda o: o.total_discounts),
    "discount_percent": ("number", lambda o: o.discount_percent),
    "customer_orders_count": ("number", lambda o: o.customer_orders_count),
    "discount_code": ("set", lambda o: o.discount_codes),
    "order_tag": ("set", lambda o: o.order_tags),
    "customer_tag": ("set", lambda o: o.customer_tags),
    "sku": ("set", lambda o: tuple(li.sku for li in o.line_items if li.sku)),
    "vendor": ("set", lambda o: tuple(li.vendor for li in o.line_items if li.vendor)),
    "total_quantity": ("number", lambda o: Decimal(o.total_quantity) if o.line_items else None),
    "max_line_quantity": ("number", lambda o: Decimal(max(li.quantity for li in o.line_items)) if o.line_items else None),
    "product_type": ("set", lambda o: o.product_types),
    "product_tag": ("set", lambda o: o.product_tags),
    "shipping_method": ("set", lambda o: o.shipping_methods),
    "payment_gateway": ("set", lambda o: o.payment_gateways),
    "source_name": ("text", lambda o: o.source_name),
    "shipping_country": ("text", lambda o: o.shipping_country),
    "shipping_province": ("text", lambda o: o.shipping_province),
    "financial_status": ("text", lambda o: o.financial_status),
    "currency": ("text", lambda o: o.currency),
    "customer_email": ("text", lambda o: o.customer_email),
    "customer_email_domain": ("text", lambda o: o.customer_email_domain),
    "payment_terms": ("text", lambda o: o.payment_terms),
    "risk_level": ("text", lambda o: o.risk_level),
    "risk_recommendation": ("text", lambda o: o.risk_recommendation),
    "b2b": ("bool", lambda o: o.b2b),
    "first_order": ("bool", lambda o: o.first_order),
    "note_attribute": ("attrs", lambda o: o.note_attributes),
}
MONEY_FACTS = {"total_price", "subtotal_price", "total_discounts"}
# Facts a webhook never carries (checked against Shopify's real orders/create body in tests/unit/test_facts.py):
# one GraphQL read (orders.enrich) supplies them when an enabled policy asks.
GRAPHQL_FACTS = frozenset({"customer_tag", "customer_orders_count", "first_order", "product_type", "product_tag",
                           "b2b", "risk_level", "risk_recommendation"})
NUMBER_OPS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "eq": "="}
TEXT_OPS = {"eq", "in", "glob"}


class ConditionError(ValueError):
    """A condition that cannot be parsed; `path` names the offending key. An unknown name carries what it is
    (`what`) and the closed set it should come from (`choices`), so a checker can suggest the nearest."""

    def __init__(self, path: str, message: str, *, what: str | None = None, choices: tuple[str, ...] = ()):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.what = what
        self.choices = choices


def _unknown(path: str, what: str, choices: list[str]) -> ConditionError:
    return ConditionError(path, f"unknown {what}; expected one of {', '.join(choices)}", what=what,
                          choices=tuple(choices))


@dataclass(frozen=True)
class Node:
    """A parsed condition: `op` is all/any/not or a fact comparison."""

    op: str
    children: tuple[Node, ...] = ()
    fact: str | None = None
    cmp: str | None = None
    value: Any = None
    currency: str | None = None
    name: str | None = None  # note attribute name


@dataclass(frozen=True)
class Outcome:
    """Result of evaluating a condition: whether it held, why, and which facts were missing."""

    matched: bool
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def _number(value: Any, path: str) -> Decimal:
    if isinstance(value, bool):
        raise ConditionError(path, f"expected a number, got {value!r}")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ConditionError(path, f"expected a number, got {value!r}") from None


def _text_leaf(fact: str, spec: Any, path: str, name: str | None = None) -> Node:
    if not isinstance(spec, dict):
        spec = {"eq": spec}
    if len(spec) != 1:
        raise ConditionError(path, "expected exactly one comparison, e.g. {glob: 'INFLU*'}")
    cmp, value = next(iter(spec.items()))
    sub = f"{path}.{cmp}"
    if cmp not in TEXT_OPS:
        raise _unknown(sub, "comparison", sorted(TEXT_OPS))
    if cmp == "in":
        if not isinstance(value, list) or not value:
            raise ConditionError(sub, "expected a non-empty list of strings")
        return Node("fact", fact=fact, cmp=cmp, value=tuple(str(v) for v in value), name=name)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ConditionError(sub, f"expected a string, got {value!r}")
    return Node("fact", fact=fact, cmp=cmp, value=str(value), name=name)


def _leaf(fact: str, spec: Any, path: str) -> Node:
    kind, _ = FACTS[fact]
    if kind == "bool":
        if not isinstance(spec, bool):
            raise ConditionError(path, f"expected true or false, got {spec!r}")
        return Node("fact", fact=fact, cmp="eq", value=spec)
    if kind == "attrs":
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ConditionError(path, "expected one attribute, e.g. {order_type: sample}")
        name, inner = next(iter(spec.items()))
        return _text_leaf(fact, inner, f"{path}.{name}", name=str(name))
    if kind != "number":
        return _text_leaf(fact, spec, path)
    if not isinstance(spec, dict):
        spec = {"eq": spec}
    spec = dict(spec)
    currency = spec.pop("currency", None)
    if currency is not None and (fact not in MONEY_FACTS or not isinstance(currency, str) or len(currency) != 3):
        raise ConditionError(f"{path}.currency", "expected a 3-letter currency code on a money fact, e.g. USD")
    if len(spec) != 1:
        raise ConditionError(path, "expected exactly one comparison, e.g. {gte: 100}")
    cmp, value = next(iter(spec.items()))
    sub = f"{path}.{cmp}"
    if cmp not in NUMBER_OPS:
        raise _unknown(sub, "comparison", list(NUMBER_OPS))
    return Node("fact", fact=fact, cmp=cmp, value=_number(value, sub), currency=currency.upper() if currency else None)


def parse(spec: Any, path: str = "when") -> Node:
    """Parse a YAML condition tree; raises ConditionError naming the key path."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ConditionError(path, "expected a mapping with exactly one key (all, any, not or a fact)")
    key, value = next(iter(spec.items()))
    sub = f"{path}.{key}"
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ConditionError(sub, "expected a non-empty list of conditions")
        return Node(key, children=tuple(parse(v, f"{sub}[{i}]") for i, v in enumerate(value)))
    if key == "not":
        return Node("not", children=(parse(value, sub),))
    if key not in FACTS:
        raise _unknown(sub, "fact", ["all", "any", "not", *sorted(FACTS)])
    return _leaf(key, value, sub)


def _fmt(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return str(value)


def _compare_text(actual: str, cmp: str, value: Any) -> bool:
    a = actual.casefold()
    if cmp == "in":
        return a in {v.casefold() for v in value}
    if cmp == "glob":
        return fnmatch.fnmatchcase(a, str(value).casefold())
    return a == str(value).casefold()


def _eval_fact(node: Node, order: OrderFacts) -> Outcome:
    kind, getter = FACTS[node.fact]
    actual = getter(order)
    label = node.fact.replace("_", " ")
    if kind == "attrs":
        actual = actual.get(node.name)
        label = f"note attribute {node.name}"
    if actual is None:
        return Outcome(False, missing=(node.fact if kind != "attrs" else f"note_attribute.{node.name}",))
    if kind == "bool":
        ok = actual is node.value
        return Outcome(ok, (label if node.value else f"not {label}",) if ok else ())
    if kind == "number":
        if node.currency and node.currency != order.currency.upper():
            return Outcome(False, missing=(f"{node.fact} in {node.currency} (order is in {order.currency})",))
        ok = {
            "gte": actual >= node.value,
            "gt": actual > node.value,
            "lte": actual <= node.value,
            "lt": actual < node.value,
            "eq": actual == node.value,
        }[node.cmp]
        if not ok:
            return Outcome(False)
        unit = "%" if node.fact == "discount_percent" else ""
        cur = f" {order.currency}" if node.fact in MONEY_FACTS else ""
        return Outcome(True, (f"{label} {_fmt(actual)}{unit}{cur} {NUMBER_OPS[node.cmp]} {_fmt(node.value)}{unit}{cur}",))
    values = actual if kind == "set" else (actual,)
    hits = [v for v in values if _compare_text(str(v), node.cmp, node.value)]
    return Outcome(bool(hits), (f"{label} `{hits[0]}`",) if hits else ())


def describe(node: Node) -> str:
    """A short human rendering of a condition, for explanations of `not`."""
    if node.op == "fact":
        label = node.fact.replace("_", " ") if node.name is None else f"note attribute {node.name}"
        if FACTS[node.fact][0] == "bool":
            return label if node.value else f"not {label}"
        if FACTS[node.fact][0] == "number":
            return f"{label} {NUMBER_OPS[node.cmp]} {_fmt(node.value)}"
        value = ", ".join(node.value) if node.cmp == "in" else node.value
        return f"{label} `{value}`"
    if node.op == "not":
        return f"not {describe(node.children[0])}"
    return "(" + f" {node.op} ".join(describe(c) for c in node.children) + ")"


def facts_used(node: Node) -> set[str]:
    """Every fact a condition reads (to know whether a GraphQL read is needed)."""
    if node.op == "fact":
        return {node.fact}
    return set().union(*(facts_used(c) for c in node.children))


def evaluate(node: Node, order: OrderFacts) -> Outcome:
    """Evaluate a parsed condition; a missing fact counts as false and is reported."""
    if node.op == "fact":
        return _eval_fact(node, order)
    if node.op == "not":
        inner = evaluate(node.children[0], order)
        return Outcome(not inner.matched, () if inner.matched else (f"not {describe(node.children[0])}",),
                       inner.missing)
    parts: list[Outcome] = []
    for child in node.children:
        part = evaluate(child, order)
        parts.append(part)
        if node.op == "all" and not part.matched:
            break  # one false child decides an `all`; the rest need not run
    missing = tuple(m for p in parts for m in p.missing)
    if node.op == "all":
        ok = all(p.matched for p in parts)
        return Outcome(ok, tuple(r for p in parts for r in p.reasons) if ok else (), missing)
    hits = [p for p in parts if p.matched]
    return Outcome(bool(hits), tuple(r for p in hits for r in p.reasons), missing)
