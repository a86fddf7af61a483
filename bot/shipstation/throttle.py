"""Pure maths of holdfast's own request budget for one ShipStation account (no clock: time is passed in).

ShipStation allows 200 requests a minute per account (https://docs.shipstation.com/rate-limits) and answers 429 past
it. A token bucket keeps holdfast under it: `burst` requests at once, then `rate` a second. Any window of T seconds
then holds at most burst + rate·T requests; the defaults (10 at once, 3 a second) make 190 a minute, leaving room
for a clock that drifts and for anything else using the same key.
"""

from __future__ import annotations

from dataclasses import dataclass

LIMIT_PER_MINUTE = 200
RATE_PER_S = 3.0  # 180 a minute
BURST = 10.0


@dataclass(frozen=True)
class Bucket:
    """Tokens available at `at` (seconds on a monotonic clock); a negative count is a debt being paid off."""

    tokens: float = BURST
    at: float = 0.0
    rate: float = RATE_PER_S
    burst: float = BURST

    def tokens_at(self, now: float) -> float:
        """Tokens expected at `now` (never more than the burst)."""
        return min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)

    def wait_for(self, now: float) -> float:
        """Seconds until one request may go (0: now)."""
        need = 1.0 - self.tokens_at(now)
        return 0.0 if need <= 0 or self.rate <= 0 else need / self.rate

    def take(self, now: float) -> Bucket:
        """The bucket after one request sent at `now` (call when wait_for(now) is 0)."""
        return Bucket(self.tokens_at(now) - 1.0, now, self.rate, self.burst)

    def pause(self, now: float, seconds: float) -> Bucket:
        """The bucket after ShipStation said to wait `seconds` (a 429's Retry-After): nothing goes before then."""
        debt = min(0.0, self.tokens_at(now)) - max(0.0, seconds) * self.rate
        return Bucket(debt, now, self.rate, self.burst)


def window_max(*, rate: float, burst: float, seconds: float) -> float:
    """The most requests a bucket lets through in any window of `seconds`."""
    return burst + rate * seconds
