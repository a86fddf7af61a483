"""Reading the operator's policy file from disk; parsing and validating it is the pure core's (bot/approvals/policies.py)."""

from __future__ import annotations

from pathlib import Path

from bot.approvals.policies import PolicyError, PolicySet, load_text


def load_file(path: Path) -> PolicySet:
    """Read and validate a policy file; every problem is a `file:line:col: error: …` line (PolicyError)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([(f"{path}: error: cannot read the policy file ({exc.strerror}); point --config or "
                           "HOLDFAST_CONFIG at it")]) from None
    return load_text(text, str(path))
