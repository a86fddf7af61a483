"""What to change in ShipStation, given the shipment as read and the policy's rules: pure, so a run that finds the
work done plans nothing (every job reads the shipment first and acts only on the difference).

ShipStation's behaviour relied on (https://docs.shipstation.com/hold-and-restore-shipments): a held shipment has
status `on_hold` and no label can be bought for it; on its `hold_until_date` it goes back to `pending` by itself;
holding a held shipment replaces its date; a cancelled shipment or one with a label cannot be held (400); only a
held shipment can be restored (400 otherwise). Tags: https://docs.shipstation.com/tag-shipments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

ON_HOLD = "on_hold"
# A shipment in these statuses can no longer be held nor re-routed: ShipStation answers 400, so we do not ask.
PAST_HOLDING = {"label_purchased": "its label is already purchased", "cancelled": "it is cancelled in ShipStation"}
EXTEND_WITHIN = timedelta(days=3)  # an undecided request's hold that ends sooner than this is pushed out

Action = Literal["hold", "restore", "add_tag", "remove_tag", "warehouse"]


@dataclass(frozen=True)
class Step:
    """One call to make: hold (arg: the date), restore, add_tag/remove_tag (arg: the tag), warehouse (arg: id)."""

    action: Action
    arg: Any = None


@dataclass(frozen=True)
class Refusal:
    """ShipStation would refuse the change (the shipment is past the point where it can be changed)."""

    why: str


def hold_until(*, today: date, hold_days: int, expire_after: timedelta | None, created_at: datetime) -> date:
    """The hold's end: `hold_days` from today, and at least two days past the request's expiry, so the hold cannot
    end by itself while the request can still be decided."""
    until = today + timedelta(days=max(1, hold_days))  # must be later than today, or ShipStation says 400
    if expire_after is not None:
        until = max(until, (created_at + expire_after).date() + timedelta(days=2))
    return until


def _tag_steps(tags: tuple[str, ...], *, add: tuple[str, ...], remove: tuple[str, ...]) -> list[Step]:
    have = {t.casefold() for t in tags}  # ShipStation tag names: matched as the user sees them, case aside
    keep = {t.casefold() for t in add}
    out = [Step("remove_tag", t) for t in remove if t.casefold() in have and t.casefold() not in keep]
    out += [Step("add_tag", t) for t in dict.fromkeys(add) if t.casefold() not in have]
    return out


def for_flag(shipment: Any, rules: Any, *, until: date) -> tuple[Step, ...] | Refusal:
    """Hold it (or push a nearer end out to `until`) and put the on_flag tags on."""
    steps: list[Step] = []
    if rules.on_flag.hold:
        if shipment.status in PAST_HOLDING:
            return Refusal(f"could not hold it: {PAST_HOLDING[shipment.status]}")
        if shipment.status != ON_HOLD or shipment.hold_until is None or shipment.hold_until < until:
            steps.append(Step("hold", until))
    steps[:0] = _tag_steps(shipment.tags, add=tuple(rules.on_flag.tags), remove=())  # tagged before it is held
    return tuple(steps)


def for_decision(shipment: Any, rules: Any, *, status: str, warehouse_id: str | None) -> tuple[Step, ...] | Refusal:
    """Approved: route (tags, warehouse), then restore; rejected or expired: tags, and restore unless it keeps
    the hold. The restore comes last: once restored the warehouse may pick it, so it must carry its routing by then."""
    approved = status == "approved"
    flag_tags = tuple(rules.on_flag.tags)
    add = tuple(rules.on_approve.tags if approved else rules.on_reject.tags)
    steps = _tag_steps(shipment.tags, add=add, remove=flag_tags)
    if approved and warehouse_id and str(shipment.warehouse_id) != str(warehouse_id):
        if shipment.status in PAST_HOLDING:
            return Refusal(f"could not move it to another warehouse: {PAST_HOLDING[shipment.status]}")
        steps.append(Step("warehouse", warehouse_id))
    if shipment.status == ON_HOLD and (approved or not rules.on_reject.keep_hold):
        steps.append(Step("restore"))
    return tuple(steps)


def needs_extending(*, hold_end: date | None, today: date) -> bool:
    """An undecided request's hold that ShipStation would lift by itself within EXTEND_WITHIN."""
    return hold_end is not None and hold_end - today <= EXTEND_WITHIN


def final_state(*, status: str, rules: Any) -> str:
    """The record's state once a decision has landed."""
    if status == "approved":
        return "routed" if (rules.on_approve.tags or rules.on_approve.warehouse) else "restored"
    return "kept" if rules.on_reject.keep_hold else "restored"
