"""Operator-written approval policies: load, validate with exact error locations, and match orders."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from bot.approvals.conditions import FACTS, GRAPHQL_FACTS, ConditionError, evaluate, facts_used
from bot.approvals.orders import OrderFacts
from bot.approvals.schema import Policy, PolicyFile, Roles


@dataclass(frozen=True)
class PolicySet:
    """Validated policies in match order, with the hash of the file they came from."""

    policies: tuple[Policy, ...]
    file_hash: str
    source: str
    roles: Roles = field(default_factory=Roles)
    staff: dict[str, str] = field(default_factory=dict)

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
        if loc[1] < len(items) and isinstance(items[loc[1]], dict):
            pid = str(items[loc[1]].get("id", f"#{loc[1] + 1}"))
        loc = loc[2:]
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return pid, path or "(policy)"


def load_text(text: str, source: str = "<policies>") -> PolicySet:
    """Validate policy YAML; raises PolicyError with one line per problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError([f"{source}: not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise PolicyError([f"{source}: expected a mapping with a `policies` list"])
    try:
        parsed = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            pid, path = _loc(raw, tuple(err["loc"]))
            ctx = err.get("ctx", {}).get("error")
            if isinstance(ctx, ConditionError):
                path, msg = ctx.path, ctx.message
            else:
                msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{source}: policy {pid}: {path}: {msg}")
        raise PolicyError(problems) from None
    ids = [p.id for p in parsed.policies]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PolicyError([f"{source}: policy {d}: id: used more than once" for d in dupes])
    ordered = sorted(parsed.policies, key=lambda p: p.priority)  # stable: file order breaks ties
    return PolicySet(tuple(ordered), hashlib.sha256(text.encode()).hexdigest(), source, parsed.roles, parsed.staff)


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
