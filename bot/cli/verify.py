"""`holdfast audit verify`: the hash chain on its own, then against the checkpoints published outside the database.

What it proves: no row was edited, removed from the middle, or reordered (the chain), and, with checkpoints, that
no row up to the newest checkpoint was deleted or rewritten since it was published. What it cannot prove: rows
written after the newest checkpoint could be deleted without a trace until the next one, and whoever holds both the
database and HOLDFAST_SECRET_KEY could rewrite the chain and sign new checkpoints (keep the file or the channel
where they cannot rewrite it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.settings import Settings


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Walk the audit hash chain, then hold it to the published checkpoints (storage/checkpoints.py)."""
    from storage import audit, checkpoints
    from storage.db import make_engine, make_sessionmaker

    path = Path(args.checkpoints) if args.checkpoints else settings.audit_checkpoint_file
    key = settings.secret_key.get_secret_value()
    if path is not None and not key:
        print("checkpoints are signed with HOLDFAST_SECRET_KEY, which is not set: set it to the key the server "
              "runs with, or leave out --checkpoints", file=sys.stderr)
        return 2

    async def run() -> tuple[audit.Verification, list[str], int]:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await audit.verify(session)
                problems, checked = [], 0
                lines = path.read_text(encoding="utf-8").splitlines() if path is not None and path.exists() else []
                for n, line in enumerate(lines, 1):
                    point = checkpoints.parse(line, key)
                    if point is None:
                        problems.append(f"{path}:{n}: not a checkpoint signed with HOLDFAST_SECRET_KEY")
                    elif why := await checkpoints.check(session, point):
                        problems.append(f"{path}:{n}: {why}")
                    else:
                        checked += 1
                return result, problems, checked
        finally:
            await engine.dispose()

    result, problems, checked = asyncio.run(run())
    if not result.ok:
        print(f"BROKEN at audit row {result.broken_id}: {result.problem}. "
              f"{result.count} rows before it verify; last good hash {result.head}", file=sys.stderr)
        return 1
    if problems:
        print("TRUNCATED or REWRITTEN: the chain verifies on its own, but not against its checkpoints:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"ok: {result.count} audit rows, head hash {result.head}")
    if result.erased:  # erased on a privacy webhook (bot/features/privacy); each digest verified in its place
        print(f"{result.erased} of them had their personal data erased; their digests verify in its place")
    if path is not None:
        print(f"{checked} checkpoint(s) in {path} match" if checked else
              f"no checkpoint in {path} yet: only edits and gaps inside the chain can be detected")
    return 0
