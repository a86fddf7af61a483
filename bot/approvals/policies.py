"""Operator-written approval policies: load, validate with exact error locations, and match orders."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.approvals.conditions import ConditionError, Node, evaluate, parse
from bot.approvals.orders import OrderFacts

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")


class Approvers(BaseModel):
    """Who may decide: Slack user ids (user groups come with the decisions issue)."""

    model_config = ConfigDict(extra="forbid")
    users: list[str] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _users(cls, v: list[str]) -> list[str]:
        bad = [u for u in v if not SLACK_USER.match(u)]
        if bad:
            raise ValueError(f"not Slack user ids (U… or W…): {', '.join(map(str, bad))}")
        return v

    @model_validator(mode="after")
    def _someone(self) -> Approvers:
        if not self.users:
            raise ValueError("at least one approver is required")
        return self


class Tags(BaseModel):
    """Order tags set while pending and after each outcome."""

    model_config = ConfigDict(extra="forbid")
    pending: str = "holdfast-pending"
    approved: str = "holdfast-approved"
    rejected: str = "holdfast-rejected"


class Policy(BaseModel):
    """One approval policy as written by the operator."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str | None = None
    priority: int = 100
    enabled: bool = True
    channel: str
    approvers: Approvers
    when: dict[str, Any]
    hold_notes: str | None = None
    tags: Tags = Field(default_factory=Tags)
    on_reject: Literal["keep_hold"] = "keep_hold"
    condition: Node | None = Field(default=None, exclude=True)

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not SLACK_CHANNEL.match(v):
            raise ValueError(f"not a Slack channel id (C…, G… or D…): {v!r}")
        return v

    @field_validator("when")
    @classmethod
    def _when(cls, v: dict[str, Any]) -> dict[str, Any]:
        parse(v)  # raises ConditionError with the exact key path
        return v

    @model_validator(mode="after")
    def _compile(self) -> Policy:
        self.condition = parse(self.when)
        return self

    @property
    def title(self) -> str:
        """The name shown to people."""
        return self.name or self.id


class PolicyFile(BaseModel):
    """The whole YAML file."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    policies: list[Policy]


@dataclass(frozen=True)
class PolicySet:
    """Validated policies in match order, with the hash of the file they came from."""

    policies: tuple[Policy, ...]
    file_hash: str
    source: str

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
    return PolicySet(tuple(ordered), hashlib.sha256(text.encode()).hexdigest(), source)


def load_file(path: Path) -> PolicySet:
    """Read and validate a policy file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([f"{path}: cannot read the policy file: {exc.strerror}"]) from None
    return load_text(text, str(path))


def match(policies: PolicySet, order: OrderFacts) -> Match | None:
    """The first enabled policy (lowest priority number, then file order) whose condition holds."""
    for policy in policies.policies:
        if not policy.enabled or policy.condition is None:
            continue
        outcome = evaluate(policy.condition, order)
        if outcome.matched:
            return Match(policy, outcome.reasons, outcome.missing)
    return None
