"""Per-request timers (reminders, escalation, expiry) and periodic-job periods: pure time maths."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from bot.approvals.machine import Status
from bot.approvals.schema import Timers

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimerKind(StrEnum):
    """What a timer does when it fires."""

    REMIND = "remind"
    ESCALATE = "escalate"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Timer:
    """One timer to enqueue as a job due at `at`; `n` counts reminders (1 = the first)."""

    kind: TimerKind
    at: datetime
    n: int = 1



def reminder_at(timers: Timers, created_at: datetime, n: int) -> datetime | None:
    """When reminder `n` (1-based) is due, or None when the policy sends no such reminder."""
    if timers.remind_after is None or n < 1 or n > timers.max_reminders:
        return None
    if n > 1 and timers.remind_every is None:
        return None
    at = created_at + timers.remind_after + (n - 1) * (timers.remind_every or timedelta(0))
    # A reminder at or after expiry would nag about a request that is already over.
    if timers.expire_after is not None and at >= created_at + timers.expire_after:
        return None
    return at


def schedule(timers: Timers, created_at: datetime) -> tuple[Timer, ...]:
    """The timers a new request starts with (later reminders are scheduled as each one fires)."""
    out: list[Timer] = []
    first = reminder_at(timers, created_at, 1)
    if first is not None:
        out.append(Timer(TimerKind.REMIND, first, 1))
    if timers.escalate_after is not None:
        out.append(Timer(TimerKind.ESCALATE, created_at + timers.escalate_after))
    if timers.expire_after is not None:
        out.append(Timer(TimerKind.EXPIRE, created_at + timers.expire_after))
    return tuple(out)


def next_timer(timers: Timers, created_at: datetime, fired: Timer) -> Timer | None:
    """The timer that follows one that fired: only a reminder repeats."""
    if fired.kind is not TimerKind.REMIND:
        return None
    at = reminder_at(timers, created_at, fired.n + 1)
    return Timer(TimerKind.REMIND, at, fired.n + 1) if at is not None else None


def still_live(status: str) -> bool:
    """A timer acts only on a pending request: a decision cancels it without deleting the job."""
    return status == Status.PENDING


def expiry_status(on_expire: Literal["keep_hold", "reject", "approve"]) -> Status:
    """The request's status after expiry, per the policy."""
    return {"keep_hold": Status.EXPIRED, "reject": Status.REJECTED, "approve": Status.APPROVED}[on_expire]


def not_voted(approvers: list[str], voters: set[str]) -> list[str]:
    """Approvers (in policy order) who have not voted yet."""
    return [u for u in dict.fromkeys(approvers) if u not in voters]


def reminder_text(order_name: str, waiting: list[str], n: int, of: int, age: timedelta) -> str:
    """The thread reply that nudges the approvers who have not voted."""
    who = " ".join(f"<@{u}>" for u in waiting) or "Approvers"
    hours = age.total_seconds() / 3600
    waited = f"{hours:.0f} h" if hours >= 1 else f"{age.total_seconds() / 60:.0f} min"
    return f":bell: {who}: order {order_name} has waited {waited} for a decision (reminder {n} of {of})."


def period_start(now: datetime, every: timedelta, *, offset: timedelta = timedelta(0)) -> datetime:
    """Start of the period containing `now`, aligned to the epoch (+ offset) so every instance agrees."""
    step = every.total_seconds()
    since = (now - EPOCH - offset).total_seconds()
    return EPOCH + offset + timedelta(seconds=(since // step) * step)
