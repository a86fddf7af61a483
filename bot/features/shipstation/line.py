"""The request message's "ShipStation: …" line, from the stored record: pure text, drawn as a context line."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "?"
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _tags(tags: Any) -> str:
    return ", ".join(str(t) for t in (tags or ()))


def text(*, state: str, order_name: str, hold_until: date | datetime | None = None, tags: Any = (),
         detail: str | None = None, looked_until: datetime | None = None, find_for_s: float = 1800) -> str:
    """"ShipStation: on hold until 2027-01-07, tagged awaiting-approval" and the like (the view escapes it)."""
    tagged = f", tagged {_tags(tags)}" if tags else ""
    if state == "looking":
        until = f" until {looked_until:%H:%M} UTC" if looked_until else ""
        return f"ShipStation: looking for {order_name}{until}"
    if state == "held" and hold_until is None:  # on_flag.hold: false — tagged only, as the policy says
        return f"ShipStation: not held (the policy only tags it){tagged}"
    if state == "held":
        return f"ShipStation: on hold until {_day(hold_until)}{tagged}" + (f"; {detail}" if detail else "")
    if state == "not_found":
        waited = f"{round(find_for_s / 60)} min" if find_for_s >= 60 else f"{find_for_s:g} s"
        return f"ShipStation: {order_name} not found after {waited}: hold it in ShipStation by hand"
    if state == "hold_failed":
        return f"ShipStation: {detail or 'could not hold it'}: hold it in ShipStation by hand if it can still ship"
    if state == "route_failed":
        return f"ShipStation: {detail or 'could not route it'}"
    if state == "kept":
        return f"ShipStation: kept on hold until {_day(hold_until)}{tagged}"
    if state in ("restored", "routed", "released"):
        said = f", {detail}" if detail else ""
        return f"ShipStation: restored{tagged}{said}"
    return f"ShipStation: {state}"


def of_record(record: Any, *, order_name: str, find_for_s: float) -> str | None:
    """The line for a stored record (None: no record, the connector did nothing for this request)."""
    if record is None:
        return None
    return text(state=record.state, order_name=order_name, hold_until=record.hold_until, tags=record.tags,
                detail=record.detail, looked_until=record.looked_until, find_for_s=find_for_s)
