"""How `holdfast policy test` writes its results: one line per order, a summary, and `--explain`'s tree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.approvals.conditions import FACTS, MONEY_FACTS, Node, describe
from bot.approvals.explain import Step, Verdict
from bot.approvals.orders import OrderFacts
from bot.blocks.money import format_money
from bot.cli.backtest import Row, Summary, customer_of
from bot.cli.words import plural

DECIDED = "  ← decided"


def row_line(row: Row) -> str:
    """One order: name, total, customer, the policy that flags it and why (or "-")."""
    why = "; ".join(row.reasons) if row.policy else ""
    gaps = f"  (missing: {', '.join(row.missing)})" if row.missing else ""
    line = (f"{row.order:<12} {row.total or '':>14}  {row.customer or '-':<28} {row.policy or '-':<24} "
            f"{why}{gaps}").rstrip()
    # The policy's ShipStation block, on a line of its own under the order: what would happen to its shipment.
    return f"{line}\n{'':<12} ShipStation: {row.shipstation}" if row.policy and row.shipstation else line


def summary_line(summary: Summary, *, skipped_word: str = "line") -> str:
    """ "3 orders: 1 flagged by staff-orders, 2 not flagged; 1 line skipped" """
    not_flagged = summary.orders - sum(summary.flagged.values())
    parts = [f"{n:,} flagged by {pid}" for pid, n in summary.flagged.most_common()] + [f"{not_flagged:,} not flagged"]
    skipped = f"; {plural(summary.skipped, skipped_word)} skipped (said above)" if summary.skipped else ""
    return f"{plural(summary.orders, 'order')}: {', '.join(parts)}{skipped}"


def progress_line(done: int, rate: float) -> str:
    """The running count on stderr."""
    return f"  {plural(done, 'order')} checked ({rate:,.0f}/s)"


def matches_order(facts: OrderFacts, wanted: str) -> bool:
    """Whether `wanted` (what the operator typed after --explain) names this order: its name with or without
    the #, its id, or its GraphQL id."""
    w = wanted.strip()
    return w in (facts.name, facts.legacy_id, facts.gid) or (w.lstrip("#") == facts.name.lstrip("#") != "")


def _number(value: Decimal) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def value_text(node: Node, value: Any, order: OrderFacts) -> str:
    """A fact's value on the order, written for the operator."""
    kind = FACTS[node.fact][0]
    if value is None:
        return "missing"
    if node.fact in MONEY_FACTS:
        return format_money(value, order.currency)
    if kind == "number":
        return _number(value) + ("%" if node.fact == "discount_percent" else "")
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "set":
        return ", ".join(f"`{v}`" for v in value) or "none"
    return f"`{value}`"


def condition_text(node: Node) -> str:
    """A condition as the policy file says it, with its currency or % unit."""
    if node.op in ("all", "any"):
        return f"{node.op} of:"
    if node.op == "not":
        return "not:"
    text = describe(node)
    if node.fact == "discount_percent":
        text += "%"
    return f"{text} {node.currency}" if node.currency else text


def step_lines(step: Step, order: OrderFacts, *, unavailable: frozenset[str] = frozenset(), depth: int = 2) -> list[str]:
    """The tree of one policy's conditions: each one's result, a fact's value, and which ones decided."""
    node = step.node
    text = condition_text(node)
    if node.op == "fact":
        label = f"note attribute {node.name}" if node.name is not None else node.fact.replace("_", " ")
        text += f" — {label}: {value_text(node, step.value, order)}"
        if step.value is None and node.fact in unavailable:
            text += " (webhook files do not carry it: --from-shop reads it)"
        elif step.missing and step.value is not None:  # a money condition in another currency
            text += f" (the condition is in {node.currency})"
    out = [f"{' ' * depth}{'yes' if step.matched else 'no':<4}{text}{DECIDED if step.decided else ''}"]
    for child in step.children:
        out += step_lines(child, order, unavailable=unavailable, depth=depth + 2)
    return out


def explain_lines(order: OrderFacts, verdicts: list[Verdict], *, unavailable: frozenset[str] = frozenset()) -> list[str]:
    """Every policy's verdict on one order, with every condition's value."""
    flagger = next((v.policy.id for v in verdicts if v.flags), None)
    head = f"{order.name} (id {order.legacy_id}): {format_money(order.total_price, order.currency)}, " \
           f"{customer_of(order) or 'no customer'}"
    out = [head, f"flagged by {flagger}" if flagger else "not flagged by any policy"]
    for v in verdicts:
        where = f"{v.policy.id} (priority {v.policy.priority})"
        if v.step is None:
            out.append(f"{where}: disabled, not checked")
            continue
        status = ("matches: flags this order" if v.flags else f"matches, but {flagger} comes first"
                  if v.step.matched else "does not match")
        out += [f"{where}: {status}", *step_lines(v.step, order, unavailable=unavailable)]
    return out


def step_json(step: Step, order: OrderFacts) -> dict[str, Any]:
    """--explain --json: the same tree, machine-readable."""
    out: dict[str, Any] = {"condition": condition_text(step.node), "matched": step.matched, "decided": step.decided}
    if step.node.op == "fact":
        out |= {"fact": step.node.fact, "value": value_text(step.node, step.value, order), "missing": step.missing}
    if step.children:
        out["conditions"] = [step_json(c, order) for c in step.children]
    return out


def explain_json(order: OrderFacts, verdicts: list[Verdict]) -> dict[str, Any]:
    """--explain --json: every policy's verdict on one order."""
    return {"order": order.name, "id": order.legacy_id, "total": format_money(order.total_price, order.currency),
            "customer": customer_of(order),
            "policies": [{"policy": v.policy.id, "priority": v.policy.priority, "enabled": v.step is not None,
                          "matched": bool(v.step and v.step.matched), "flags": v.flags,
                          "when": step_json(v.step, order) if v.step else None} for v in verdicts]}
