"""The policy file's schema: every key an operator may write, with the checks that make mistakes exact."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.approvals.conditions import Node, parse

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_DURATION = re.compile(r"(\d+)\s*([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(value: Any) -> timedelta:
    """'90m', '2h', '1d12h', '1w' → timedelta; raises ValueError naming the accepted form."""
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"expected a duration like 30m, 2h, 1d12h or 1w, got {value!r}")
    delta = timedelta(**{_UNITS[u]: 0 for u in _UNITS})
    for number, unit in parts:
        delta += timedelta(**{_UNITS[unit]: int(number)})
    if delta <= timedelta(0):
        raise ValueError(f"a duration must be longer than zero, got {value!r}")
    return delta


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _ids(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    bad = [v for v in values if not isinstance(v, str) or not pattern.match(v)]
    if bad:
        raise ValueError(f"not {what}: {', '.join(map(str, bad))}")
    return values


class Strict(BaseModel):
    """Base: unknown keys are mistakes."""

    model_config = ConfigDict(extra="forbid")


class People(Strict):
    """Slack users and user groups."""

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _users(cls, v: list[str]) -> list[str]:
        return _ids(v, SLACK_USER, "Slack user ids (U… or W…)")

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        return _ids(v, SLACK_GROUP, "Slack user group ids (S…)")


class Approvers(People):
    """Who may decide, and how many distinct approvals decide."""

    required: int = Field(1, ge=1, le=20)
    rejections_required: int = Field(1, ge=1, le=20)
    delegation: bool = False

    @model_validator(mode="after")
    def _possible(self) -> Approvers:
        if not self.users and not self.groups:
            raise ValueError("at least one approver (users or groups) is required")
        if not self.groups and self.required > len(set(self.users)):
            raise ValueError(f"required: {self.required} approvals cannot come from {len(set(self.users))} listed user(s)")
        return self


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
            raise ValueError("options: a select field needs at least one option")
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


class Tags(Strict):
    """Order tags set while pending and after each outcome."""

    pending: str = Field("holdfast-pending", min_length=1, max_length=40)
    approved: str = Field("holdfast-approved", min_length=1, max_length=40)
    rejected: str = Field("holdfast-rejected", min_length=1, max_length=40)
    expired: str = Field("holdfast-expired", min_length=1, max_length=40)


class Cancel(Strict):
    """How a rejection cancels the order (`on_reject: cancel`)."""

    reason: Literal["CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"] = "DECLINED"
    restock: bool = True
    refund: bool = False
    notify_customer: bool = False


class Escalation(Strict):
    """Where an overdue request goes: a channel and/or users to DM."""

    channel: str | None = None
    users: list[str] = Field(default_factory=list)

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        if v is not None and not SLACK_CHANNEL.match(v):
            raise ValueError(f"not a Slack channel id (C…, G… or D…): {v!r}")
        return v

    @field_validator("users")
    @classmethod
    def _users(cls, v: list[str]) -> list[str]:
        return _ids(v, SLACK_USER, "Slack user ids (U… or W…)")


class Timers(Strict):
    """Reminders, escalation and expiry, counted from when the request was created."""

    remind_after: Duration | None = None
    remind_every: Duration | None = None
    max_reminders: int = Field(3, ge=0, le=50)
    escalate_after: Duration | None = None
    escalate_to: Escalation | None = None
    expire_after: Duration | None = None
    on_expire: Literal["keep_hold", "reject", "approve"] = "keep_hold"

    @model_validator(mode="after")
    def _ordered(self) -> Timers:
        if self.escalate_after and not self.escalate_to:
            raise ValueError("escalate_to: escalate_after needs somewhere to escalate to (channel and/or users)")
        if self.escalate_to and not self.escalate_after:
            raise ValueError("escalate_after: escalate_to is set but never used without escalate_after")
        if self.remind_every and not self.remind_after:
            raise ValueError("remind_after: remind_every repeats a reminder that is never first sent")
        if self.expire_after:
            for name in ("remind_after", "escalate_after"):
                earlier = getattr(self, name)
                if earlier and earlier >= self.expire_after:
                    raise ValueError(f"{name} ({earlier}) must come before expire_after ({self.expire_after})")
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
            raise ValueError("when: a policy needs a condition (or `internal:` for /order-request policies)")
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
