"""`holdfast demo --keep DIR`: the demo's database is kept, and the audit tools it points to work on it."""

import asyncio
import json
import os
import shlex
import sys
from pathlib import Path

from bot.cli.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]


async def cli(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOLDFAST_")}  # only what the demo prints
    env["DATABASE_URL"] = database_url
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_the_kept_database_verifies_and_exports_as_the_demo_says(tmp_path, capsys):
    folder = tmp_path / "kept demo"  # a space: the printed command lines must still be copyable
    assert await run_demo(keep=str(folder)) == 0
    out = capsys.readouterr().out
    db = folder / "holdfast.db"
    url = f"sqlite+aiosqlite:///{db}"
    for command in ("holdfast audit verify", "holdfast audit export"):
        assert f"DATABASE_URL={shlex.quote(url)} {command}" in out
    # Names, not ids, in the narrative (the sandbox's directory: U0ANA is ana, C0APPROVALS is #order-approvals).
    assert "Ana Approver clicked Approve" in out and "#order-approvals" in out
    assert "U0ANA" not in out and "U0BEN" not in out and "C0APPROVALS" not in out

    code, said, err = await cli(url, "audit", "verify")
    assert code == 0, err
    rows = int(said.split("ok: ", 1)[1].split(" ", 1)[0])
    assert rows >= 10 and f"audit chain: verified, {rows} rows" in out
    code, said, err = await cli(url, "audit", "export", "--events", "--format", "jsonl")
    assert code == 0, err
    events = [json.loads(line) for line in said.splitlines()]
    assert len(events) == rows and {"request.approved", "request.rejected"} <= {e["kind"] for e in events}


async def test_an_existing_database_is_not_reused(tmp_path, capsys):
    (tmp_path / "holdfast.db").write_text("someone's data")
    assert await run_demo(keep=str(tmp_path)) == 2
    assert "exists already" in capsys.readouterr().err
    assert (tmp_path / "holdfast.db").read_text() == "someone's data"
