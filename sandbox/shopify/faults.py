"""Injectable faults: the next N matching requests fail the way Shopify fails."""

from __future__ import annotations

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
class Faults:
    pending: list[Fault] = field(default_factory=list)

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

    def take(self, root_fields: list[str]) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        for fault in self.pending:
            if fault.matches(root_fields):
                fault.times -= 1
                if fault.times <= 0:
                    self.pending.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault."""
        self.pending.clear()
