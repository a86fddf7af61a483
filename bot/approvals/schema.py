"""The policy file's schema: every key an operator may write, with the checks that make mistakes exact."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.approvals.conditions import Node, parse
from bot.approvals.schema_parts import (
    SLACK_CHANNEL,
    SLACK_GROUP,
    SLACK_USER,
    Approvers,
    Cancel,
    Duration,
    Escalation,
    People,
    ShipStationRules,
    Strict,
    Tags,
    Timers,
    parse_duration,
)

# The blocks are imported from here by the rest of holdfast, as before schema_parts.py was split off.
__all__ = ["SLACK_CHANNEL", "SLACK_GROUP", "SLACK_USER", "Approvers", "Cancel", "Duration", "Escalation", "People",
           "ShipStationRules", "Tags", "Timers", "parse_duration"]


class FieldSpec(Strict):
    """One input the approver fills in a modal."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=48)
    type: Literal["text", "multiline", "select", "date", "number", "user"] = "text"
    required: bool = True
    options: list[str] = Field(default_factory=list)
    placeholder: str | None = Field(None, max_length=150)
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(None, ge=1, le=3000)

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == "select" and not self.options:
            raise ValueError("options: a select field needs at least one option, e.g. `options: [\"yes\", \"no\"]`")
        if self.type == "select" and len(self.options) > 100:
            raise ValueError("options: Slack allows at most 100 options")
        if self.options and self.type != "select":
            raise ValueError(f"options: only a select field has options, this one is {self.type}")
        if (self.min is not None or self.max is not None) and self.type != "number":
            raise ValueError("min/max: only a number field has bounds")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


REJECT_REASON = FieldSpec(id="reason", label="Reason", type="multiline", required=True)


class Fields(Strict):
    """Fields asked for on approve and on reject (reject asks for a reason unless told otherwise)."""

    approve: list[FieldSpec] = Field(default_factory=list)
    reject: list[FieldSpec] = Field(default_factory=lambda: [REJECT_REASON])

    @model_validator(mode="after")
    def _unique(self) -> Fields:
        for side in ("approve", "reject"):
            ids = [f.id for f in getattr(self, side)]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{side}: field id(s) used twice: {', '.join(dupes)}")
            if len(ids) > 20:
                raise ValueError(f"{side}: at most 20 fields fit in a modal")
        return self


class SavedAddress(Strict):
    """A ship-to address staff can pick by name in `/order-request`."""

    name: str = Field(min_length=1, max_length=80)
    company: str | None = Field(None, max_length=80)
    address1: str = Field(min_length=1, max_length=120)
    address2: str | None = Field(None, max_length=120)
    city: str = Field(min_length=1, max_length=80)
    zip: str | None = Field(None, max_length=20)
    province_code: str | None = Field(None, max_length=8)
    country_code: str = Field(pattern=r"^[A-Z]{2}$")


class MetafieldTarget(Strict):
    """Where a decision is also written as a JSON metafield on the order (for reports and other apps)."""

    namespace: str = Field("holdfast", pattern=r"^[a-zA-Z0-9_-]{3,255}$")
    key: str = Field("decision", pattern=r"^[a-zA-Z0-9_-]{2,64}$")


class Internal(Strict):
    """Internal orders (`/order-request`): how the draft order is priced, paid and rejected."""

    pricing: Literal["free", "real"] = "free"
    payment: Literal["pending", "paid"] = "pending"
    on_reject: Literal["tag", "delete"] = "tag"
    # What the requester fills in (department, cost centre, reason …), validated like approvers' fields.
    fields: list[FieldSpec] = Field(default_factory=list, max_length=12)
    # Saved ship-to addresses offered in the modal, by label (a typed address is always possible too).
    addresses: dict[str, SavedAddress] = Field(default_factory=dict, max_length=50)


class Policy(Strict):
    """One approval policy as written by the operator."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str | None = Field(None, max_length=80)
    description: str | None = None
    priority: int = 100
    enabled: bool = True
    channel: str
    approvers: Approvers
    when: dict[str, Any] | None = None
    internal: Internal | None = None
    fields: Fields = Field(default_factory=Fields)
    hold_notes: str | None = Field(None, max_length=255)
    metafield: MetafieldTarget | None = None  # also record the decision as an order metafield
    tags: Tags = Field(default_factory=Tags)
    on_reject: Literal["keep_hold", "cancel", "release"] = "keep_hold"
    cancel: Cancel = Field(default_factory=Cancel)
    timers: Timers = Field(default_factory=Timers)
    shipstation: ShipStationRules | None = None  # the order's ShipStation shipment: held, then routed (issue #20)
    condition: Node | None = Field(default=None, exclude=True)

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not SLACK_CHANNEL.match(v):
            raise ValueError(f"not a Slack channel id (C…, G… or D…): {v!r}")
        return v

    @field_validator("when")
    @classmethod
    def _when(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            parse(v)  # raises ConditionError with the exact key path
        return v

    @model_validator(mode="after")
    def _compile(self) -> Policy:
        if self.when is None and self.internal is None:
            raise ValueError("when: a policy needs a condition (or `internal:` for /order-request policies), "
                             "e.g. `when: {total_price: {gte: 1000}}`")
        self.condition = parse(self.when) if self.when is not None else None
        return self

    @property
    def title(self) -> str:
        """The name shown to people."""
        return self.name or self.id


class Roles(Strict):
    """Who may run manager commands (history, audit, stats)."""

    managers: People = Field(default_factory=People)


class PolicyFile(Strict):
    """The whole YAML file."""

    version: Literal[1] = 1
    roles: Roles = Field(default_factory=Roles)
    # Shopify staff account id → Slack user id: whoever created an order in the admin/POS never approves it.
    staff: dict[str, str] = Field(default_factory=dict)
    policies: list[Policy]

    @field_validator("staff", mode="before")
    @classmethod
    def _staff(cls, v: Any) -> Any:
        if isinstance(v, dict):
            v = {str(k): val for k, val in v.items()}
            bad = [f"{k}: {u}" for k, u in v.items() if not isinstance(u, str) or not SLACK_USER.match(u)]
            if bad:
                raise ValueError(f"values must be Slack user ids (U… or W…): {', '.join(bad)}")
        return v
