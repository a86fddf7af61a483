"""Shared bits of the benchmarks: a fresh database, the real processes, percentiles, one JSON object out."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def log(*parts: Any) -> None:
    """Progress goes to stderr; stdout carries only the result."""
    print(*parts, file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, sort_keys=False))


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of these processes so far (Linux /proc; None elsewhere)."""
    try:
        total = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine_busy_seconds() -> float | None:
    """CPU seconds this machine's cores spent busy so far, all processes (Linux /proc/stat; None elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        # user, nice, system, irq, softirq (fields 0-2, 5, 6): not idle or iowait, nor steal (the hypervisor's
        # other guests); guest time is counted in user already
        return (sum(fields[:3]) + fields[5] + fields[6]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0]}


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A throwaway database: a temp SQLite file, or a new PostgreSQL database (server from BENCH_PG_URL or
    DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres), dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    from storage.db import normalise_url

    base = os.environ.get("BENCH_PG_URL") or os.environ.get("DATABASE_URL") or PG_DEFAULT
    if not base.startswith("postgres"):
        base = PG_DEFAULT
    url = make_url(normalise_url(base))
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"holdfast_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@contextlib.asynccontextmanager
async def processes(database_url: str, **env: str):
    """The sandbox plus holdfast processes (see tests/reliability/procs.py), logs in a temp dir."""
    from tests.reliability.procs import Procs

    with tempfile.TemporaryDirectory() as tmp:
        procs = Procs(database_url, Path(tmp), **env)
        try:
            await procs.start()
            yield procs
        finally:
            await procs.stop()
