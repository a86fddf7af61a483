"""Pure maths of Shopify's cost-based leaky bucket (no clock: time is passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bucket:
    """What Shopify last said of the bucket, and when (seconds on our monotonic clock)."""

    maximum: float
    available: float
    restore_rate: float
    at: float

    def available_at(self, now: float) -> float:
        """Points expected to be available at `now`."""
        return min(self.maximum, self.available + max(0.0, now - self.at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds to wait before a request of `cost` points can be paid (0 when it can go now)."""
        need = min(cost, self.maximum) - self.available_at(now)
        if need <= 0 or self.restore_rate <= 0:
            return 0.0
        return need / self.restore_rate

    def spend(self, cost: float, now: float) -> Bucket:
        """The bucket after reserving `cost` points at `now`."""
        return Bucket(self.maximum, self.available_at(now) - cost, self.restore_rate, now)


def from_extensions(extensions: dict[str, Any] | None, now: float) -> Bucket | None:
    """Read `extensions.cost.throttleStatus`; None when the reply has none."""
    status = ((extensions or {}).get("cost") or {}).get("throttleStatus")
    if not status:
        return None
    return Bucket(
        maximum=float(status["maximumAvailable"]),
        available=float(status["currentlyAvailable"]),
        restore_rate=float(status["restoreRate"]),
        at=now,
    )


def requested_cost(extensions: dict[str, Any] | None) -> float | None:
    """The `requestedQueryCost` Shopify reported, if any."""
    cost = (extensions or {}).get("cost") or {}
    value = cost.get("requestedQueryCost")
    return float(value) if value is not None else None


def backoff(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Exponential backoff for retry `attempt` (1-based) with a jitter fraction in [0, 1)."""
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    return delay * (0.5 + jitter / 2)
