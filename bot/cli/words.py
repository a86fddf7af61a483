"""Counted words for the operator's commands: "1 order", "2 orders", "1 policy", "3 policies"."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n` and the word in the number it needs (`many`: an irregular plural, default word + "s")."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"
