"""The job registry: one JobSpec per job kind, declared by the feature that owns it; the worker reads only this.

A spec says everything the worker and the queue need to know of a kind (python-arq's `func(..., timeout=,
max_tries=)` is the model): who runs it, what happens when it is dead, how many tries it gets, whether it calls
Shopify (and so may wait long for a shop's cost bucket), how long it may run, and how long its finished rows
are kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Job

# An executor does the outside work (Shopify, Slack) and returns what to write, if anything, as an Apply that
# runs in the transaction that finishes the job. `context` is the runtime (bot/runtime.py) the worker was given.
Apply = Callable[[AsyncSession], Awaitable[None]]
Executor = Callable[[Any, Job], Awaitable[Apply | None]]
OnDead = Callable[[Any, AsyncSession, Job, str], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    """One job kind: its executor and how the worker treats it."""

    kind: str
    executor: Executor
    on_dead: OnDead | None = None  # runs in the transaction that buries the job (after its `job.dead` audit row)
    attempts_setting: str = "job_max_attempts"  # the Settings field that bounds its tries
    extra_attempts: int = 0  # tries on top of that setting (a follow-up that polls a Shopify job)
    calls_shopify: bool = False  # may wait for a shop's cost bucket: never takes the worker's reserved slots
    timeout_s: float | None = None  # how long one run may take (None: the job_timeout_s setting)
    keep_finished_s: float | None = None  # how long a finished row is kept (None: for ever)

    def max_attempts(self, settings: Any) -> int:
        """Tries before the job is dead, from the settings in force."""
        return int(getattr(settings, self.attempts_setting)) + self.extra_attempts


class UnknownJobKind(LookupError):
    """A job kind with no spec: nothing would ever run it."""


class Registry:
    """Every job kind holdfast runs, each declared once."""

    def __init__(self, specs: Iterable[JobSpec]):
        self._specs: dict[str, JobSpec] = {}
        for spec in specs:
            kind = str(spec.kind)
            if kind in self._specs:
                raise ValueError(f"job kind {kind!r} is declared twice")
            self._specs[kind] = spec

    def __contains__(self, kind: object) -> bool:
        return str(kind) in self._specs

    def __iter__(self):
        return iter(self._specs.values())

    def get(self, kind: str) -> JobSpec | None:
        """The spec of `kind`, or None."""
        return self._specs.get(kind)

    def spec(self, kind: str) -> JobSpec:
        """The spec of `kind`; UnknownJobKind when there is none."""
        try:
            return self._specs[str(kind)]
        except KeyError:
            raise UnknownJobKind(f"job kind {kind!r} has no JobSpec: declare one in its feature's jobs.py") from None

    @property
    def kinds(self) -> frozenset[str]:
        """Every registered kind."""
        return frozenset(self._specs)

    @property
    def shopify_kinds(self) -> tuple[str, ...]:
        """The kinds that call Shopify, sorted (a stable value: the claim statement is cached by it)."""
        return tuple(sorted(k for k, s in self._specs.items() if s.calls_shopify))
