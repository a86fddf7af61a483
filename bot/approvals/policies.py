"""Operator-written approval policies: load, validate with exact error locations, and match orders."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from bot.approvals.conditions import FACTS, GRAPHQL_FACTS, evaluate, facts_used
from bot.approvals.marks import START, Marks, Pos, compose
from bot.approvals.orders import OrderFacts
from bot.approvals.schema import Policy, PolicyFile, Roles
from bot.approvals.teach import EXAMPLES, Taught, explain, money_equality


@dataclass(frozen=True)
class PolicySet:
    """Validated policies in match order, with the hash of the file they came from."""

    policies: tuple[Policy, ...]
    file_hash: str
    source: str
    roles: Roles = field(default_factory=Roles)
    staff: dict[str, str] = field(default_factory=dict)
    marks: Marks = field(default_factory=Marks, compare=False, repr=False)  # where each key stands in the file
    warnings: tuple[str, ...] = ()  # `file:line:col: warning: …` lines: valid, but probably not what was meant

    def where(self, text: str) -> str | None:
        """'file:line:col' of the first place `text` (a Slack id, say) is written in the file, if it is."""
        pos = self.marks.first(text)
        return f"{self.source}:{pos}" if pos else None

    @property
    def used_facts(self) -> frozenset[str]:
        """Every fact the enabled policies' conditions read."""
        return frozenset().union(*(facts_used(p.condition) for p in self.policies
                                   if p.enabled and p.condition is not None))

    @property
    def graphql_facts(self) -> frozenset[str]:
        """The facts enabled policies read that webhooks never carry (customer tags and orders count, first
        order, product type and tags, B2B, risk): one GraphQL read per order supplies them."""
        return self.used_facts & GRAPHQL_FACTS

    @property
    def needs_graphql(self) -> bool:
        """Whether an enabled policy asks for a fact only GraphQL has."""
        return bool(self.graphql_facts)

    @property
    def decision_tags(self) -> frozenset[str]:
        """Every tag a decision leaves on an order (each policy's approved, rejected and expired tags): an order
        carrying one was decided by holdfast before, whatever this database remembers."""
        return frozenset(t for p in self.policies for t in (p.tags.approved, p.tags.rejected, p.tags.expired))

    def get(self, policy_id: str) -> Policy | None:
        """The policy with this id, if it still exists."""
        return next((p for p in self.policies if p.id == policy_id), None)


@dataclass(frozen=True)
class Match:
    """A policy that flagged an order, and why."""

    policy: Policy
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()


class PolicyError(ValueError):
    """The policy file is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _loc(raw: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, str]:
    """(policy id, dotted key path) for a pydantic error location."""
    pid = "-"
    if len(loc) >= 2 and loc[0] == "policies" and isinstance(loc[1], int):
        items = raw.get("policies") or []
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            pid = str(items[loc[1]].get("id", f"#{loc[1] + 1}"))
        loc = loc[2:]
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return pid, path or "(policy)"


def _line(source: str, marks: Marks, raw: dict[str, Any], taught: Taught, level: str) -> tuple[Pos, str]:
    """(where, 'file:line:col: error: policy id: key.path: message'): the form editors jump to."""
    pos = marks.at(taught.path if taught.at is None else taught.at, key=taught.key)
    pid, path = _loc(raw, taught.path)
    if taught.path and taught.path[0] != "policies":
        return pos, f"{source}:{pos}: {level}: {path}: {taught.message}"
    return pos, f"{source}:{pos}: {level}: policy {pid}: {path}: {taught.message}"


def _sorted(lines: list[tuple[Pos, str]]) -> list[str]:
    return [text for _, text in sorted(lines, key=lambda pair: pair[0])]  # top of the file first, like a compiler


def _duplicates(source: str, marks: Marks, ids: list[str]) -> list[str]:
    lines = []
    for i, pid in enumerate(ids):
        first = ids.index(pid)
        if first != i:
            pos = marks.at(("policies", i, "id"))
            lines.append(f"{source}:{pos}: error: policy {pid}: id: used more than once (first at line "
                         f"{marks.at(('policies', first, 'id')).line}); give each policy its own id")
    return lines


def _yaml_problem(source: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    if isinstance(exc, yaml.MarkedYAMLError):
        what = " ".join(p for p in (exc.problem, exc.context) if p)
        return f"{where}: error: not valid YAML: {what}"
    return f"{where}: error: not valid YAML: {exc}"


def load_text(text: str, source: str = "<policies>") -> PolicySet:
    """Validate policy YAML; raises PolicyError with one `file:line:col: error: …` line per problem."""
    try:
        raw, marks = compose(text)
    except yaml.YAMLError as exc:
        raise PolicyError([_yaml_problem(source, exc)]) from None
    if not isinstance(raw, dict):
        example = EXAMPLES[("PolicyFile", "policies")]
        raise PolicyError([f"{source}:{START}: error: expected a mapping with a `policies` list, e.g. `{example}`"])
    try:
        parsed = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_sorted([_line(source, marks, raw, explain(e), "error") for e in exc.errors()])) from None
    dupes = _duplicates(source, marks, [p.id for p in parsed.policies])
    if dupes:
        raise PolicyError(dupes)
    warnings = [_line(source, marks, raw, w, "warning") for i, item in enumerate(raw["policies"])
                for w in money_equality(item.get("when"), ("policies", i, "when"))]
    ordered = sorted(parsed.policies, key=lambda p: p.priority)  # stable: file order breaks ties
    return PolicySet(tuple(ordered), hashlib.sha256(text.encode()).hexdigest(), source, parsed.roles, parsed.staff,
                     marks=marks, warnings=tuple(_sorted(warnings)))


def facts_from(policies: PolicySet, order: OrderFacts) -> dict[str, str]:
    """Where each fact the enabled policies read came from: "webhook", "graphql", or "missing" (stored with the
    request, so an approver or operator can tell a fact Shopify never sent from one that was false)."""
    out = {}
    for fact in sorted(policies.used_facts):
        if FACTS[fact][1](order) is None:
            out[fact] = "missing"
        else:
            out[fact] = "graphql" if order.origin == "graphql" or fact in order.enriched else "webhook"
    return out


def match(policies: PolicySet, order: OrderFacts) -> Match | None:
    """The first enabled policy (lowest priority number, then file order) whose condition holds."""
    for policy in policies.policies:
        if not policy.enabled or policy.condition is None:  # internal-order policies are chosen, not matched
            continue
        outcome = evaluate(policy.condition, order)
        if outcome.matched:
            return Match(policy, outcome.reasons, outcome.missing)
    return None
