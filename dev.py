#!/usr/bin/env python3
"""Bootstrap for a fresh machine with only Python 3.11+: make .venv, install pinned deps, run a command.

    python3 dev.py demo          # the self-contained demo (`holdfast demo`)
    python3 dev.py test [ARGS]   # the test suite (pytest ARGS)
    python3 dev.py holdfast ...  # any holdfast command inside the environment
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".holdfast-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.lock"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def install_command() -> list[str]:
    """pip installing holdfast and its pinned dependencies, showing its own progress (Collecting …, Installing …)
    but not the advice that needs no action here: pip's version nag, running as root, script locations."""
    return [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-warn-script-location",
            "--root-user-action=ignore", "-c", str(ROOT / "requirements.lock"), "-e", f"{ROOT}[test]"]


def ensure_env() -> None:
    """Create or refresh .venv when pyproject.toml or requirements.lock changed, saying which step it is at."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 the machine has
        sys.exit(f"holdfast needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    want = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    started = time.monotonic()
    if not (BIN / "python").exists():
        print("dev.py [1/2]: creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py [2/2]: installing holdfast and its pinned dependencies (requirements.lock); pip's progress "
          "follows …", flush=True)
    # PYTHONWARNINGS: a Python DeprecationWarning from inside pip is not the operator's to act on.
    subprocess.run(install_command(), check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    STAMP.write_text(want)
    print(f"dev.py: .venv is ready ({time.monotonic() - started:.0f}s)", flush=True)


def main(argv: list[str]) -> int:
    """Dispatch `demo`, `test` or `holdfast …`."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    ensure_env()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        cmd = [str(BIN / "holdfast"), "demo", *rest]
    elif command == "test":
        cmd = [str(BIN / "python"), "-m", "pytest", *rest]
    elif command == "holdfast":
        cmd = [str(BIN / "holdfast"), *rest]
    else:
        print(f"dev.py: unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
