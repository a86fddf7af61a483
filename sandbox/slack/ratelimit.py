"""Token-bucket rate limits (pure: the caller passes the time in)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .reference import METHODS, SPECIAL

# Slack's limits apply "per API method per workspace/team per app"; chat.postMessage's special tier "generally
# allows posting one message per second per channel" with "short bursts >1 allowed"
# (https://docs.slack.dev/apis/web-api/rate-limits). Its workspace-wide limit has no published number: not modelled.
PER_CHANNEL_METHODS = {"chat.postMessage"}
# A bare rate allows this many seconds' worth of calls as a burst.
DEFAULT_BURST_SECONDS = 2.0
# The tiers, in calls per minute (same page): Tier 1 "1+ per minute ... a small amount of burst behavior is
# tolerated", Tier 2 "20+ per minute ... occasional bursts", Tier 3 "50+ per minute ... Sporadic bursts are
# welcome", Tier 4 "100+ per minute ... generous burst behavior". Modelled as a bucket holding one minute's calls,
# refilled at the per-minute rate: a burst up to the minute's allowance, then the steady rate.
PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
TIER = {tier: n / 60 for tier, n in PER_MINUTE.items()}
# Every method the sandbox implements, at its documented tier (sandbox/slack/reference.py); conversations.history
# and .replies at Tier 3, as for internal customer-built apps (commercially distributed non-Marketplace apps get
# 1 a minute since 2025). On by default (SlackSandbox(rate_scale=...)); special tiers other than chat.postMessage's
# (auth.test, chat.getPermalink) publish no number and are not limited.
SLACK_LIMITS: dict[str, float | tuple[float, float]] = {
    "chat.postMessage": (1.0, 3.0),
    **{name: (TIER[row.tier], float(PER_MINUTE[row.tier])) for name, row in METHODS.items() if row.tier != SPECIAL},
}


def scaled(limits: dict[str, float | tuple[float, float]], factor: float) -> dict[str, float | tuple[float, float]]:
    """The same limits `factor` times faster (bursts unchanged), to keep a test or a benchmark short."""
    out: dict[str, float | tuple[float, float]] = {}
    for method, spec in limits.items():
        rate, burst = spec if isinstance(spec, tuple) else (float(spec), max(1.0, float(spec) * DEFAULT_BURST_SECONDS))
        out[method] = (rate * factor, burst)
    return out


@dataclass
class TokenBucket:
    """`rate` calls per second with room for `burst` at once."""

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> float:
        """Spend one call; 0.0 if allowed, else the seconds until one is available."""
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """Per-method (and per-channel for chat.postMessage) limits from a config dict.

    `limits` maps a method to calls per second, or to (calls per second, burst).
    """

    def __init__(self, limits: dict[str, float | tuple[float, float]] | None = None) -> None:
        self.limits: dict[str, tuple[float, float]] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        for method, spec in (limits or {}).items():
            self.set(method, spec)

    def set(self, method: str, spec: float | tuple[float, float]) -> None:
        """Configure (or replace) one method's limit."""
        rate, burst = spec if isinstance(spec, tuple) else (float(spec), max(1.0, float(spec) * DEFAULT_BURST_SECONDS))
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate limit for {method} needs rate > 0 and burst >= 1")
        self.limits[method] = (rate, burst)
        self._buckets = {k: v for k, v in self._buckets.items() if k[0] != method}

    def check(self, method: str, channel: str | None, now: float) -> int:
        """0 if the call may proceed, else the Retry-After seconds (an integer >= 1)."""
        if method not in self.limits:
            return 0
        key = (method, channel or "") if method in PER_CHANNEL_METHODS else (method, "")
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(*self.limits[method])
        wait = bucket.take(now)
        return 0 if wait == 0.0 else max(1, math.ceil(wait))
