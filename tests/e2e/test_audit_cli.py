"""`holdfast audit verify` and `holdfast audit export` as real processes against a real database."""

import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.blocks.ids import ActionId
from bot.reports.export import COLUMNS, EVENT_COLUMNS
from storage.db import make_engine
from tests.e2e.approvals_helpers import POLICIES, approvals_stack, flagged

ROOT = Path(__file__).resolve().parents[2]


async def cli(database_url, *args, config: Path | None = None) -> tuple[int, str, str]:
    import asyncio

    env = {**os.environ, "DATABASE_URL": database_url}
    if config:
        env["HOLDFAST_CONFIG"] = str(config)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def trail(database_url):
    """A database whose audit trail came from the real flow: two flagged orders, one approved."""
    async with approvals_stack(database_url) as stack:
        reqs = await flagged(stack, 2)
        await stack.click(reqs[0], ActionId.APPROVE, "U0ANA")
        await stack.settle()
        events = await stack.audit_trail()
    assert len(events) >= 8
    yield database_url, events


async def sql(database_url, *statements):
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            for statement, params in statements:
                await conn.execute(text(statement), params)
    finally:
        await engine.dispose()


async def test_verify_passes_an_untouched_chain(trail):
    url, events = trail
    code, out, _ = await cli(url, "audit", "verify")
    assert code == 0 and out.strip() == f"ok: {len(events)} audit rows, head hash {events[-1].hash}"


async def test_verify_finds_an_edited_row(trail):
    url, events = trail
    victim = events[4]
    await sql(url, ("UPDATE audit_event SET actor = 'U0EVE' WHERE id = :id", {"id": victim.id}))
    code, _, err = await cli(url, "audit", "verify")
    assert code == 1 and f"BROKEN at audit row {victim.id}:" in err and "edited" in err
    assert f"{4} rows before it verify" in err


async def test_verify_finds_a_deleted_row(trail):
    url, events = trail
    await sql(url, ("DELETE FROM audit_event WHERE id = :id", {"id": events[3].id}))
    code, _, err = await cli(url, "audit", "verify")
    assert code == 1 and f"BROKEN at audit row {events[4].id}:" in err and "removed" in err


async def test_verify_finds_two_swapped_rows(trail):
    url, events = trail
    a, b = events[2], events[3]
    # Swap the two rows' places in the chain (their ids) and leave their contents untouched.
    await sql(url, ("UPDATE audit_event SET id = -1 WHERE id = :id", {"id": a.id}),
              ("UPDATE audit_event SET id = :new WHERE id = :old", {"new": a.id, "old": b.id}),
              ("UPDATE audit_event SET id = :new WHERE id = -1", {"new": b.id}))
    code, _, err = await cli(url, "audit", "verify")
    assert code == 1 and f"BROKEN at audit row {a.id}:" in err and "reordered" in err


async def test_export_decisions_and_events_as_csv_and_jsonl(trail, tmp_path):
    url, events = trail
    config = tmp_path / "policies.yml"
    config.write_text(POLICIES)
    code, out, err = await cli(url, "audit", "export", "--since", "1d", "--format", "csv", config=config)
    assert code == 0 and "1 decisions exported" in err
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0] == ",".join(COLUMNS)
    approved = next(e for e in events if e.kind == "request.approved")
    assert (int(row["request_id"]), row["outcome"], row["decided_by"]) == (approved.request_id, "approved", "U0ANA")
    code, out, _ = await cli(url, "audit", "export", "--format", "jsonl", config=config)
    assert [json.loads(line)["request_id"] for line in out.splitlines()] == [approved.request_id]
    code, out, _ = await cli(url, "audit", "export", "--until", "2001-01-01", config=config)
    assert code == 0 and out.strip() == ",".join(COLUMNS)

    target = tmp_path / "events.csv"
    code, _, err = await cli(url, "audit", "export", "--events", "--since", "2001-01-01", "-o", str(target))
    assert code == 0 and f"{len(events)} audit rows exported" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert tuple(rows[0]) == EVENT_COLUMNS
    assert [(int(r["id"]), r["kind"], r["hash"]) for r in rows] == [(e.id, e.kind, e.hash) for e in events]
    code, out, _ = await cli(url, "audit", "export", "--events", "--format", "jsonl")
    assert [json.loads(line)["prev_hash"] for line in out.splitlines()] == [e.prev_hash for e in events]
    code, _, err = await cli(url, "audit", "export", "--since", "whenever")
    assert code == 2 and "--since/--until" in err
