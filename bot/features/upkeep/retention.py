"""The pruning pass: what is past its retention goes, a batch per transaction, oldest first.

Each batch commits on its own and the pass yields between batches, so a backlog of a million rows never holds the
database (SQLite's one write lock) long enough for a webhook or a click to notice. A pass stops after
MAX_BATCHES per table and leaves the rest to the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.jobs.registry import Apply
from bot.runtime import Runtime
from storage import retention
from storage.db import transaction
from storage.models import Job

log = logging.getLogger(__name__)
MAX_BATCHES = 200


async def _drain(rt: Runtime, prune: Callable[[AsyncSession], Awaitable[int]]) -> int:
    total = 0
    for _ in range(MAX_BATCHES):
        async with transaction(rt.sessions, background=True) as session:
            gone = await prune(session)
        total += gone
        if gone < rt.settings.prune_batch:
            break
        await asyncio.sleep(0)  # let the requests waiting for the database go first
    return total


async def prune(rt: Runtime, job: Job) -> Apply | None:
    """Delete finished jobs, receipts and periodic runs past their retention; one log line with the counts."""
    now, settings, batch = rt.now(), rt.settings, rt.settings.prune_batch
    own = {s.kind: s.keep_finished_s for s in rt.registry if s.keep_finished_s is not None}
    gone = {"jobs": await _drain(rt, lambda s: retention.prune_jobs(
        s, before=now - timedelta(seconds=settings.job_retention_s), batch=batch, other_than=own))}
    for kind, keep in own.items():
        gone["jobs"] += await _drain(rt, lambda s, k=kind, keep=keep: retention.prune_jobs(
            s, before=now - timedelta(seconds=keep), batch=batch, kinds=[k]))
    gone["receipts"] = await _drain(rt, lambda s: retention.prune_receipts(
        s, before=now - timedelta(seconds=settings.receipt_retention_s), batch=batch))
    gone["periodic_runs"] = await _drain(rt, lambda s: retention.prune_periodic_runs(
        s, before=now - timedelta(seconds=settings.periodic_retention_s), batch=batch))
    if any(gone.values()):
        log.info("pruned %s finished job(s), %s webhook receipt(s), %s periodic run(s) past their retention",
                 gone["jobs"], gone["receipts"], gone["periodic_runs"])
    return None
