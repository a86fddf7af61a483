"""Why a policy did or did not flag an order: every condition's value, and which conditions decided the result.

Pure, like `conditions`: `conditions.evaluate` stays the matcher the server runs; this walks the same tree without
short-circuiting (an operator asking "why" wants every value) and marks the branches that decided, so that a fact
missing from a branch that did not matter (an `any` another branch made true) is not reported as if it had.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.approvals.conditions import FACTS, Node, evaluate
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match, PolicySet
from bot.approvals.schema import Policy


@dataclass(frozen=True)
class Step:
    """One condition of the tree, evaluated against one order."""

    node: Node
    matched: bool
    decided: bool = True  # whether this condition decided its policy's result (through every parent)
    value: Any = None  # a fact's value on the order (None: the order lacks it)
    missing: str | None = None  # the fact reported missing, named as `conditions.evaluate` names it
    children: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """One policy's result for an order; `step` is None for a disabled policy (never checked)."""

    policy: Policy
    step: Step | None
    flags: bool = False  # the first enabled policy that matched: the one that would flag the order


def fact_value(node: Node, order: OrderFacts) -> Any:
    """The order's value for a fact condition, as the matcher reads it (None when the order lacks it)."""
    kind, getter = FACTS[node.fact]
    actual = getter(order)
    return actual.get(node.name) if kind == "attrs" else actual


def _deciders(node: Node, kids: list[Step], matched: bool) -> list[bool]:
    if node.op == "all":
        if matched:  # every part was needed
            return [True] * len(kids)
        first = next(i for i, k in enumerate(kids) if not k.matched)
        return [i == first for i in range(len(kids))]  # the first false part ends an `all`, as the matcher stops
    if node.op == "any":
        return [k.matched for k in kids] if matched else [True] * len(kids)
    return [True] * len(kids)  # `not`: its one part


def _undecided(step: Step) -> Step:
    return replace(step, decided=False, children=tuple(_undecided(c) for c in step.children))


def explain(node: Node, order: OrderFacts) -> Step:
    """Evaluate every condition of the tree (no short-circuit) and mark which ones decided the result."""
    if node.op == "fact":
        outcome = evaluate(node, order)
        return Step(node, outcome.matched, value=fact_value(node, order),
                    missing=outcome.missing[0] if outcome.missing else None)
    kids = [explain(child, order) for child in node.children]
    if node.op == "all":
        matched = all(k.matched for k in kids)
    elif node.op == "any":
        matched = any(k.matched for k in kids)
    else:
        matched = not kids[0].matched
    marks = _deciders(node, kids, matched)
    return Step(node, matched, children=tuple(k if m else _undecided(k) for k, m in zip(kids, marks, strict=True)))


def deciding_missing(step: Step) -> tuple[str, ...]:
    """The missing facts of the conditions that decided the result, in tree order, once each."""
    out: dict[str, None] = {}
    stack = [step]
    while stack:
        s = stack.pop()
        if not s.decided:
            continue
        if s.missing:
            out[s.missing] = None
        stack.extend(reversed(s.children))
    return tuple(out)


def decisive(hit: Match | None, order: OrderFacts) -> Match | None:
    """`hit` (from `policies.match`) with only the missing facts that decided it."""
    if hit is None or not hit.missing or hit.policy.condition is None:
        return hit
    return replace(hit, missing=deciding_missing(explain(hit.policy.condition, order)))


def verdicts(policies: PolicySet, order: OrderFacts) -> list[Verdict]:
    """Each policy with a `when` (internal-order policies are chosen, never matched), in match order."""
    out: list[Verdict] = []
    flagged = False
    for policy in policies.policies:
        if policy.condition is None:
            continue
        if not policy.enabled:
            out.append(Verdict(policy, None))
            continue
        step = explain(policy.condition, order)
        flags = step.matched and not flagged
        flagged = flagged or step.matched
        out.append(Verdict(policy, step, flags))
    return out
