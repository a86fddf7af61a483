"""`holdfast doctor`'s checklist lines: a Check, how each is made, and how an operator sentence splits into what and fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK, FAIL, WARN = "ok", "FAIL", "warn"


@dataclass(frozen=True)
class Check:
    """One line of the checklist: where (group, name), how it went, what was found, and the fix when it failed."""

    group: str
    name: str
    status: str
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        """A warning is advice, not a failure: only FAIL makes the doctor exit non-zero."""
        return self.status != FAIL

    def as_json(self) -> dict[str, Any]:
        return {"group": self.group, "name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


def passed(group: str, name: str, detail: str) -> Check:
    return Check(group, name, OK, detail)


def failed(group: str, name: str, detail: str, fix: str) -> Check:
    return Check(group, name, FAIL, detail, fix)


def warned(group: str, name: str, detail: str, fix: str = "") -> Check:
    return Check(group, name, WARN, detail, fix)


def split_sentence(sentence: str) -> tuple[str, str]:
    """An operator sentence "what is wrong: what to do." as (what, do); the whole sentence twice if it has no fix."""
    what, _, fix = sentence.rstrip().rstrip(".").rpartition(": ")
    return (what, fix) if what else (sentence, sentence)
