"""Injectable faults: the next N matching requests fail the way Shopify fails."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["5xx", "timeout", "throttled"]
KINDS = ("5xx", "timeout", "throttled")

# Bodies in the shape Shopify's edge returns them: HTML, not JSON.
ERROR_PAGES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_page(status: int) -> str:
    """An HTML error page like the one Shopify's edge serves for 5xx responses."""
    title = ERROR_PAGES.get(status, "Server Error")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Shopify &middot; {status} {title}</title></head>"
        f"<body><h1>{title}</h1><p>There was a problem loading this website. "
        "Please try again later.</p></body></html>\n"
    )


@dataclass
class Fault:
    kind: FaultKind
    root_field: str | None = None  # None: any request
    times: int = 1
    delay: float = 30.0  # for "timeout": seconds to stall before answering 504
    status: int = 502  # for "5xx"
    # True: run the operation first (its writes happen), then fail the response anyway,
    # the case where a client cannot know whether its mutation landed.
    after_execute: bool = False

    def matches(self, root_fields: list[str]) -> bool:
        """Whether this fault applies to a request touching `root_fields`."""
        return self.times > 0 and (self.root_field is None or self.root_field in root_fields)


@dataclass
class RandomFaults:
    """Each request fails with probability `rate`, as one of `kinds` (seeded: a run can be replayed)."""

    rate: float
    kinds: tuple[str, ...] = KINDS
    delay: float = 2.5  # "timeout": longer than the client's timeout, short enough for a test
    after_execute_share: float = 0.3  # of the 5xx/timeouts, the share whose operation ran anyway
    seed: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kind(s) {sorted(unknown)}; expected some of {KINDS}")
        self._rng = random.Random(self.seed)

    def draw(self) -> Fault | None:
        if self._rng.random() >= self.rate:
            return None
        self.fired += 1
        kind = self._rng.choice(self.kinds)
        after = kind != "throttled" and self._rng.random() < self.after_execute_share
        status = self._rng.choice((500, 502, 503, 504))
        return Fault(kind, None, 1, self.delay, status, after)  # type: ignore[arg-type]


@dataclass
class Faults:
    pending: list[Fault] = field(default_factory=list)
    random_mode: RandomFaults | None = None

    def add(
        self,
        kind: FaultKind,
        root_field: str | None = None,
        times: int = 1,
        delay: float = 30.0,
        *,
        status: int = 502,
        after_execute: bool = False,
    ) -> Fault:
        """Make the next `times` requests with `root_field` (any if None) fail as `kind`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        if kind == "5xx" and not 500 <= status <= 599:
            raise ValueError(f"5xx fault needs a 5xx status, got {status}")
        fault = Fault(kind, root_field, times, delay, status, after_execute)
        self.pending.append(fault)
        return fault

    def random(self, rate: float, kinds: tuple[str, ...] | list[str] = KINDS, *, delay: float = 2.5,
               after_execute_share: float = 0.3, seed: int = 0) -> RandomFaults:
        """Fail a `rate` share of all requests (after the planned faults), as one of `kinds`; rate 0 stops it."""
        self.random_mode = RandomFaults(rate, tuple(kinds), delay, after_execute_share, seed) if rate else None
        return self.random_mode

    def take(self, root_fields: list[str]) -> Fault | None:
        """Consume one use of the first fault matching this request, if any (else maybe a random one)."""
        for fault in self.pending:
            if fault.matches(root_fields):
                fault.times -= 1
                if fault.times <= 0:
                    self.pending.remove(fault)
                return fault
        return self.random_mode.draw() if self.random_mode else None

    def clear(self) -> None:
        """Drop every pending fault and stop random faults."""
        self.pending.clear()
        self.random_mode = None
