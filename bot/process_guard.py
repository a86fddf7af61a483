"""One `holdfast serve` per pid file and per SQLite file: a second one is told, and never removes the first's file."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def pid_in(pid_file: Path) -> int | None:
    """The pid a pid file names (None: no file, or not a number)."""
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


_SQLITE_LOCKS: list[object] = []  # open lock files, held for the life of the process


def warn_if_sqlite_shared(url: str) -> None:
    """A second `holdfast serve` on one SQLite file works (WAL) but is never what was meant: two servers would
    each run a worker and the periodic jobs on one file. Say so, naming the file (a lock held while we run)."""
    if not url.startswith("sqlite") or ":memory:" in url:
        return
    path = Path(url.split("///", 1)[-1])
    try:
        lock = open(f"{path}.serve-lock", "a")  # noqa: SIM115 - held open until the process ends
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("another holdfast serve is running on %s: stop one of them, or give each its own "
                    "DATABASE_URL", path)
        return
    except OSError:
        return
    _SQLITE_LOCKS.append(lock)


def claim_pid_file(pid_file: Path) -> bool:
    """Write our pid, unless a live server already holds the file: then warn and leave it (True: it is ours)."""
    other = pid_in(pid_file)
    if other is not None and other != os.getpid() and _alive(other):
        log.warning("another holdfast serve (pid %s) holds %s: this one will not answer `holdfast check --reload`; "
                    "give each server its own HOLDFAST_PID_FILE", other, pid_file)
        return False
    pid_file.write_text(str(os.getpid()))
    return True
