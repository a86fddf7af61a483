"""ShipStation's rate limit: 200 requests a minute per account, then 429 with Retry-After (pure: no clock).

"By default, ShipStation allows you to send up to 200 requests per minute ... Requests exceeding the rate limit
will receive a 429 Too Many Requests error response. The response will also include a Retry-After header that
specifies the number of seconds to wait" (https://docs.shipstation.com/rate-limits). The docs do not say how the
minute is counted: a sliding window over the last 60 s, the harsher reading (no burst refills mid-minute, unlike a
token bucket, and no fresh allowance at a minute boundary, unlike a fixed window).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

PER_MINUTE = 200


@dataclass
class SlidingWindow:
    """At most `limit` requests in any `window_s` seconds."""

    limit: int = PER_MINUTE
    window_s: float = 60.0
    stamps: deque[float] = field(default_factory=deque)

    def take(self, now: float) -> float:
        """Count one request: 0.0 if allowed, else the seconds until one is (the request is not counted)."""
        while self.stamps and self.stamps[0] <= now - self.window_s:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            self.stamps.append(now)
            return 0.0
        return max(self.stamps[0] + self.window_s - now, 1e-3)


def retry_after_header(wait_s: float) -> str:
    """Retry-After in whole seconds, rounded up (a client that waits exactly that long gets through)."""
    return str(max(1, math.ceil(wait_s)))


def window_for(rate_scale: float) -> float:
    """The minute, `rate_scale` times shorter (same 200 requests), to keep a test short."""
    if rate_scale <= 0:
        raise ValueError("rate_scale must be > 0")
    return 60.0 / rate_scale
