"""The managers' daily digest: pending count and oldest, the last day's decisions, SLA breaches (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Row:
    """A request as the digest sees it."""

    id: int
    order_name: str
    policy_id: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Breach:
    """A request that waited longer than its policy's SLA."""

    row: Row
    waited: timedelta
    sla: timedelta


@dataclass(frozen=True)
class Digest:
    """What the digest says."""

    pending: int
    oldest: Row | None
    oldest_age: timedelta | None
    decided: dict[str, int]
    breaches: tuple[Breach, ...]


def summarise(rows: list[Row], *, now: datetime, sla_for: Callable[[str], timedelta]) -> Digest:
    """Summarise requests pending now or decided in the 24 hours before `now`."""
    pending = sorted((r for r in rows if r.status == "pending"), key=lambda r: r.created_at)
    recent = [r for r in rows if r.decided_at is not None and now - DAY <= r.decided_at < now]
    breaches = []
    for r in [*pending, *recent]:
        waited = (r.decided_at or now) - r.created_at
        sla = sla_for(r.policy_id)
        if waited > sla:
            breaches.append(Breach(r, waited, sla))
    oldest = pending[0] if pending else None
    return Digest(
        pending=len(pending), oldest=oldest, oldest_age=now - oldest.created_at if oldest else None,
        decided=dict(sorted(Counter(r.status for r in recent).items())),
        breaches=tuple(sorted(breaches, key=lambda b: b.waited, reverse=True)),
    )


def age_text(age: timedelta) -> str:
    """'2 d 3 h', '5 h', '12 min'."""
    minutes = int(age.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h" if hours else f"{mins} min"
