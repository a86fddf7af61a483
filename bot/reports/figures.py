"""Report maths (pure): time to decision, its median and 90th percentile, counts, SLA breaches."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.approvals.schema import Policy


@dataclass(frozen=True)
class VoteRow:
    """One approver's vote on a request."""

    user: str
    vote: str
    at: datetime
    fields: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Outcome:
    """A request that reached a decision (approved, rejected, expired or closed)."""

    request_id: int
    shop: str
    order_name: str
    order_gid: str
    policy_id: str
    status: str
    created_at: datetime
    decided_at: datetime
    decided_by: str | None
    sla: timedelta | None = None
    votes: tuple[VoteRow, ...] = ()

    @property
    def time_to_decision(self) -> timedelta:
        """From the request's creation to the decision that ended it."""
        return self.decided_at - self.created_at

    @property
    def breached(self) -> bool:
        """Decided later than its SLA allowed."""
        return self.sla is not None and self.time_to_decision > self.sla


@dataclass(frozen=True)
class Waiting:
    """A pending request, for overdue counts."""

    request_id: int
    order_name: str
    policy_id: str
    created_at: datetime
    sla: timedelta | None = None

    def overdue(self, now: datetime) -> bool:
        """Waiting longer than its SLA allows."""
        return self.sla is not None and now - self.created_at > self.sla


@dataclass(frozen=True)
class Figures:
    """The summary of a set of outcomes."""

    total: int
    by_outcome: dict[str, int]
    by_approver: dict[str, dict[str, int]]
    by_policy: dict[str, dict[str, int]]
    median: timedelta | None
    p90: timedelta | None
    breaches: tuple[Outcome, ...]
    overdue: tuple[Waiting, ...] = ()
    breach_count: int | None = None  # set when `breaches` holds only the worst few

    @property
    def breaches_total(self) -> int:
        """How many decisions breached their SLA (not just the ones listed)."""
        return len(self.breaches) if self.breach_count is None else self.breach_count


def sla_for(policy: Policy | None, default: timedelta | None) -> timedelta | None:
    """A policy's SLA: its expiry, else its escalation interval, else the configured default."""
    if policy is not None:
        timers = policy.timers
        if timers.expire_after or timers.escalate_after:
            return timers.expire_after or timers.escalate_after
    return default


def percentile(values: list[timedelta], q: float) -> timedelta | None:
    """The q-th percentile (0–100) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    fraction = rank - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def _nested(pairs: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for key, what in pairs:
        out.setdefault(key, Counter())[what] += 1
    # Busiest first, then by name: the order people read a leaderboard in.
    return {k: dict(sorted(c.items())) for k, c in sorted(out.items(), key=lambda kv: (-kv[1].total(), kv[0]))}


def figures(outcomes: list[Outcome], waiting: list[Waiting] = (), *, now: datetime | None = None) -> Figures:
    """Counts by outcome, approver (their votes) and policy; median and p90 time to decision; breaches."""
    times = [o.time_to_decision for o in outcomes]
    overdue = tuple(w for w in waiting if now is not None and w.overdue(now))
    return Figures(
        total=len(outcomes),
        by_outcome=dict(sorted(Counter(o.status for o in outcomes).items())),
        by_approver=_nested([(v.user, v.vote) for o in outcomes for v in o.votes]),
        by_policy=_nested([(o.policy_id, o.status) for o in outcomes]),
        median=percentile(times, 50),
        p90=percentile(times, 90),
        breaches=tuple(sorted((o for o in outcomes if o.breached), key=lambda o: -o.time_to_decision)),
        overdue=tuple(sorted(overdue, key=lambda w: w.created_at)),
    )


def breached_ids(rows: list[tuple[int, str, str, float]], slas: dict[str, timedelta | None]) -> list[int]:
    """Ids of (id, policy_id, status, seconds) rows past their policy's SLA, slowest first."""
    late = [(seconds, rid) for rid, pid, _, seconds in rows
            if slas.get(pid) is not None and seconds > slas[pid].total_seconds()]
    return [rid for _, rid in sorted(late, key=lambda t: (-t[0], t[1]))]


def figures_from_rows(rows: list[tuple[int, str, str, float]], vote_counts: list[tuple[str, str, int]],
                      examples: tuple[Outcome, ...], breach_count: int, waiting: list[Waiting] = (), *,
                      now: datetime | None = None) -> Figures:
    """The same figures as `figures`, from durations and vote counts the database already reduced."""
    times = [timedelta(seconds=max(0.0, float(r[3]))) for r in rows]
    approvers: dict[str, Counter[str]] = {}
    for user, vote, n in vote_counts:
        approvers.setdefault(user, Counter())[vote] += n
    overdue = tuple(w for w in waiting if now is not None and w.overdue(now))
    return Figures(
        total=len(rows),
        by_outcome=dict(sorted(Counter(r[2] for r in rows).items())),
        by_approver={k: dict(sorted(c.items())) for k, c in
                     sorted(approvers.items(), key=lambda kv: (-kv[1].total(), kv[0]))},
        by_policy=_nested([(r[1], r[2]) for r in rows]),
        median=percentile(times, 50),
        p90=percentile(times, 90),
        breaches=tuple(sorted(examples, key=lambda o: -o.time_to_decision)),
        overdue=tuple(sorted(overdue, key=lambda w: w.created_at)),
        breach_count=breach_count,
    )


def duration_text(delta: timedelta | None) -> str:
    """'2d 3h', '3h 12m', '4m', '12s'; '–' for none."""
    if delta is None:
        return "–"
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
