"""The policy file's building blocks: Slack ids, durations, people, tags, cancelling and timers (schema.py
assembles them into a policy)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

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
            raise ValueError("at least one approver (users or groups) is required, e.g. `approvers: {users: [U…]}`")
        if not self.groups and self.required > len(set(self.users)):
            raise ValueError(f"required: {self.required} approvals cannot come from {len(set(self.users))} listed user(s)")
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
            raise ValueError("escalate_to: escalate_after needs somewhere to escalate to (channel and/or users), "
                             "e.g. `escalate_to: {channel: C…}`")
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


# --- ShipStation (issue #20): what a policy does to the order's shipment there (bot/features/shipstation/) ---

# A tag is sent in a URL path (POST /v2/shipments/{id}/tags/{tag_name}, https://docs.shipstation.com/tag-shipments):
# a slash there would be a path, whatever the encoding; the docs give no length limit, so keep names short.
SHIPSTATION_TAG = re.compile(r"^[^/\s](?:[^/]{0,78}[^/\s])?$")


def _shipstation_tags(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in values if not SHIPSTATION_TAG.match(v)]
    if bad:
        raise ValueError(f"not a ShipStation tag name (1 to 80 characters, no '/', no space at either end): "
                         f"{', '.join(map(repr, bad))}")
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ValueError(f"tag(s) listed twice: {', '.join(twice)}")
    return values


class OnFlag(Strict):
    """While the request waits: hold the shipment (nothing is picked, packed or labelled) and tag it."""

    hold: bool = True
    tags: tuple[str, ...] = ()

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _shipstation_tags(v)


class Route(Strict):
    """On approval: restore it from hold, tag it for the warehouse, and/or ship it from another warehouse (by name,
    as ShipStation lists it)."""

    tags: tuple[str, ...] = ()
    warehouse: str | None = Field(None, min_length=1, max_length=100)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _shipstation_tags(v)


class OnReject(Strict):
    """On rejection: keep it on hold (keep_hold: false restores it) and tag it."""

    keep_hold: bool = True
    tags: tuple[str, ...] = ()

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _shipstation_tags(v)


class ShipStationRules(Strict):
    """`shipstation:` — the order's shipment in ShipStation: held while the request waits, routed by the decision.
    The on_flag tags are removed at the decision."""

    on_flag: OnFlag = Field(default_factory=OnFlag)
    on_approve: Route = Field(default_factory=Route)
    on_reject: OnReject = Field(default_factory=OnReject)

    @field_validator("on_flag", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        # `on_flag: hold` is `on_flag: {hold: true}`; any other word is a mistake worth naming.
        if isinstance(v, str):
            if v.strip() == "hold":
                return {"hold": True}
            raise ValueError(f"expected `hold` or a block, got {v!r}, e.g. "
                             "`on_flag: {hold: true, tags: [awaiting-approval]}`")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ShipStationRules:
        for side in ("on_approve", "on_reject"):
            both = sorted(set(self.on_flag.tags) & set(getattr(self, side).tags))
            if both:
                raise ValueError(f"{side}: tag(s) {', '.join(both)} are on_flag tags too, which the decision "
                                 "removes: use another name for the decision's tag")
        if not self.on_flag.hold and not self.on_flag.tags:
            raise ValueError("on_flag: neither holds nor tags the shipment, so nothing keeps it from shipping "
                             "before the decision, e.g. `on_flag: hold`")
        return self

    def describe(self) -> str:
        """What happens in ShipStation, in one line for `holdfast policy test`: "hold, tag awaiting-approval; on
        approve: tag approved-sample, ship from Samples room" (a default reject, kept on hold untagged, is not said)."""
        def tags(names: tuple[str, ...]) -> list[str]:
            return [f"tag {', '.join(names)}"] if names else []

        flag = (["hold"] if self.on_flag.hold else []) + tags(self.on_flag.tags)
        approve = tags(self.on_approve.tags) + ([f"ship from {self.on_approve.warehouse}"]
                                                 if self.on_approve.warehouse else [])
        if not approve and self.on_flag.hold:
            approve = ["release from hold"]
        reject = ([] if self.on_reject.keep_hold or not self.on_flag.hold else ["release from hold"])
        reject += tags(self.on_reject.tags)
        parts = [", ".join(flag)] + [f"on {side}: {', '.join(what)}" for side, what in
                                     (("approve", approve), ("reject", reject)) if what]
        return "; ".join(parts)
