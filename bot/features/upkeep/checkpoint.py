"""Publishing the audit chain's head outside the database (storage/checkpoints.py): to a file, appended and synced,
and/or as a message in a Slack channel. Either is where a database user cannot reach back and rewrite it."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from bot.jobs.errors import GiveUp
from bot.jobs.registry import Apply
from bot.jobs.slack_calls import call
from bot.runtime import Runtime
from storage import checkpoints
from storage.models import Job

log = logging.getLogger(__name__)


def _append(path: Path, line: str, point: checkpoints.Checkpoint) -> bool:
    """Append `line` unless the file's last checkpoint names the same head (the chain did not move)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
        if lines and (last := checkpoints.LINE.search(lines[-1])) and (int(last["row"]), last["head"]) == (
                point.row, point.head):
            return False
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())  # a checkpoint that a crash can take back is no checkpoint
    return True


async def publish_checkpoint(rt: Runtime, job: Job) -> Apply | None:
    """Sign the chain's head and publish it where the settings say."""
    key = rt.settings.secret_key.get_secret_value()
    if not key:
        raise GiveUp("audit checkpoints are signed with HOLDFAST_SECRET_KEY, which is not set")
    async with rt.sessions() as session:
        point = await checkpoints.current(session, now=rt.now())
    if point is None:
        return None
    line = point.line(key)
    if rt.settings.audit_checkpoint_file is not None:
        if await asyncio.to_thread(_append, rt.settings.audit_checkpoint_file, line, point):
            log.info("audit checkpoint: row %s, head %s…, appended to %s", point.row, point.head[:12],
                     rt.settings.audit_checkpoint_file)
    if rt.settings.audit_checkpoint_channel:
        await call(rt.slack.chat_postMessage(channel=rt.settings.audit_checkpoint_channel, text=f"`{line}`",
                                             unfurl_links=False))
    return None
