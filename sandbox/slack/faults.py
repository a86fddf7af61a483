"""Injected failures: an error reply, HTTP 429, 5xx and hung requests, consumed in the order added.

"error" is Slack's usual way to fail: HTTP 200 with `{"ok": false, "error": …}`; `fatal_error` is one every method
can return ("The server could not complete your operation(s) without encountering a catastrophic error",
https://docs.slack.dev/reference/methods/chat.postMessage, errors)."""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("error", "429", "5xx", "timeout", "lost_reply")


@dataclass
class Fault:
    """One planned failure for `times` matching calls (method None = any method)."""

    kind: str
    method: str | None = None
    times: int = 1
    retry_after: int = 1
    status: int = 500
    delay: float = 30.0
    error: str = "fatal_error"  # for "error": the reply's `error` code
    fired: int = 0


class RandomFaults:
    """Each call (of `methods`, or any) fails with probability `rate`, as one of `kinds` (seeded)."""

    def __init__(self, rate: float, kinds: tuple[str, ...] = ("429", "5xx"), *, methods: tuple[str, ...] | None = None,
                 retry_after: int = 1, delay: float = 2.5, seed: int = 0) -> None:
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if set(kinds) - set(KINDS):
            raise ValueError(f"fault kinds must be among {KINDS}, not {sorted(set(kinds) - set(KINDS))}")
        self.rate, self.kinds, self.methods = rate, tuple(kinds), methods
        self.retry_after, self.delay = retry_after, delay
        self.fired = 0
        self._rng = random.Random(seed)

    def draw(self, method: str) -> Fault | None:
        if self.methods is not None and method not in self.methods:
            return None
        if self._rng.random() >= self.rate:
            return None
        self.fired += 1
        kind = self._rng.choice(self.kinds)
        return Fault(kind=kind, method=method, retry_after=self.retry_after, delay=self.delay,
                     status=self._rng.choice((500, 502, 503)))


class FaultPlan:
    """The faults a sandbox injects before a call reaches its method."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.random_mode: RandomFaults | None = None

    def random(self, rate: float, kinds: tuple[str, ...] | list[str] = ("429", "5xx"), *,
               methods: tuple[str, ...] | None = None, retry_after: int = 1, delay: float = 2.5,
               seed: int = 0) -> RandomFaults | None:
        """Fail a `rate` share of calls (after the planned faults) as one of `kinds`; rate 0 stops it."""
        self.random_mode = RandomFaults(rate, tuple(kinds), methods=methods, retry_after=retry_after, delay=delay,
                                        seed=seed) if rate else None
        return self.random_mode

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
        return self.random_mode.draw(method) if self.random_mode else None

    def clear(self) -> None:
        """Drop every planned fault and stop random faults."""
        self.pending.clear()
        self.random_mode = None
