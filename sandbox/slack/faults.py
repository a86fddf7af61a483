"""Injected failures: HTTP 429, 5xx and hung requests, consumed in the order added."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("429", "5xx", "timeout", "lost_reply")


@dataclass
class Fault:
    """One planned failure for `times` matching calls (method None = any method)."""

    kind: str
    method: str | None = None
    times: int = 1
    retry_after: int = 1
    status: int = 500
    delay: float = 30.0
    fired: int = 0


class FaultPlan:
    """The faults a sandbox injects before a call reaches its method."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def add(self, kind: str, method: str | None = None, times: int = 1, retry_after: int = 1,
            *, status: int = 500, delay: float = 30.0) -> Fault:
        """Plan a fault: "429" (Retry-After retry_after), "5xx" (status), "timeout" (hang `delay` s),
        "lost_reply" (the call takes effect, then the connection drops before the answer)."""
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {KINDS}, not {kind!r}")
        if kind == "5xx" and not 500 <= status <= 599:
            raise ValueError("a 5xx fault needs a status between 500 and 599")
        fault = Fault(kind=kind, method=method, times=times, retry_after=retry_after, status=status, delay=delay)
        self.pending.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """The first fault matching `method`, counting one use of it."""
        for fault in self.pending:
            if fault.method in (None, method):
                fault.fired += 1
                if fault.fired >= fault.times:
                    self.pending.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Drop every planned fault."""
        self.pending.clear()
