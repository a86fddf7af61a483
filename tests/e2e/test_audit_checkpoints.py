"""Truncating the audit log is detected: checkpoints of the chain's head, signed and kept outside the database,
catch the newest rows deleted, which the chain alone cannot (what is left of it is still a valid chain)."""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import delete, func
from sqlmodel import select

from bot.cli.devstack import ROOT, DevStack
from bot.jobs import scheduler
from storage.db import transaction
from storage.models import AuditEvent
from tests.e2e.conftest import STAFF


async def verify(stack: DevStack, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": stack.database_url, "HOLDFAST_SECRET_KEY": stack.secret_key}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "audit", "verify", *args, cwd=ROOT,
                                                env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode, out.decode()


async def checkpoint(stack: DevStack) -> None:
    spec = next(s for s in scheduler.periodic_jobs(stack.rt.settings) if s.name == "audit-checkpoint")
    await scheduler.run_period(stack.rt, spec)
    await stack.settle()


async def test_deleting_the_newest_rows_is_caught_by_the_checkpoint(database_url, tmp_path):
    file = tmp_path / "audit-checkpoints.log"
    async with DevStack(database_url=database_url, audit_checkpoint_file=file) as stack:
        order = await stack.place_order(**STAFF)
        await stack.settle()
        await stack.click(await stack.request_for(order), "request-approve", "U0ANA")
        await stack.settle()
        await checkpoint(stack)
        lines = file.read_text().splitlines()
        assert len(lines) == 1 and lines[0].startswith("holdfast-audit-checkpoint v1 ")
        code, out = await verify(stack, "--checkpoints", str(file))
        assert code == 0 and "1 checkpoint(s)" in out, out

        async with transaction(stack.rt.sessions) as session:  # someone deletes the two newest rows
            newest = (await session.exec(select(func.max(AuditEvent.id)))).one()
            await session.exec(delete(AuditEvent).where(AuditEvent.id > newest - 2))
        code, out = await verify(stack)  # no checkpoints: what is left is a valid chain
        assert code == 0, out
        code, out = await verify(stack, "--checkpoints", str(file))
        assert code == 1 and "TRUNCATED" in out and f"names row {newest}" in out and "rows were deleted" in out, out


async def test_a_forged_checkpoint_line_is_refused(database_url, tmp_path):
    file = tmp_path / "audit-checkpoints.log"
    async with DevStack(database_url=database_url, audit_checkpoint_file=file) as stack:
        await stack.place_order(**STAFF)
        await stack.settle()
        await checkpoint(stack)
        line = file.read_text().strip()
        forged = line.replace(" row=", " row=1", 1)  # claims more rows than there were
        file.write_text(forged + "\n")
        code, out = await verify(stack, "--checkpoints", str(file))
        assert code == 1 and "not a checkpoint signed with HOLDFAST_SECRET_KEY" in out, out
