"""Speed at size: /approvals queue, history and stats with 100,000 requests and 1,000,000 audit events.

    python -m bench.reports_at_size [--db sqlite|postgres|both] [--requests 100000] [--events 1000000]

Seeds a fresh database through the real migrations, then times the command handler (`bot.features.reporting.service.run`,
what `/approvals …` calls) and prints ONE JSON object: p50/p95 ms per command and per database, and each
p95 as a fraction of Slack's 3-second window (the baseline every reply must beat).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.app import build_runtime
from bot.approvals.policies import load_text
from bot.features.reporting.service import run
from bot.settings import Settings
from storage.audit import GENESIS, compute_hash
from storage.db import migrate
from storage.models import ApprovalRequest, AuditEvent, Decision

WINDOW_MS = 3000.0
POLICIES = """
roles: {managers: {users: [U0BOSS]}}
policies:
  - {id: staff, channel: C0APPROVALS, approvers: {users: [U0ANA, U0BEN]}, when: {customer_tag: staff}}
  - {id: big, channel: C0APPROVALS, approvers: {users: [U0ANA, U0BEN]}, when: {total_price: {gte: 5000}}}
"""
COMMANDS = {"queue": ("U0ANA", "queue"), "history": ("U0BOSS", "history #{order}"), "stats": ("U0BOSS", "stats since 30d")}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _full(model, row: dict) -> dict:
    """A row with every column, defaults included (core inserts skip the models' Python defaults)."""
    obj = model(**row)
    return {c.name: getattr(obj, c.name) for c in model.__table__.columns}


async def seed(rt, n_requests: int, n_events: int, batch: int = 5000, pending_every: int = 20) -> None:
    """Insert requests (1 in `pending_every` pending), their votes, and a hash-chained audit log."""
    now = datetime.now(UTC)
    async with rt.engine.begin() as conn:
        started = time.monotonic()
        for start in range(0, n_requests, batch):
            rows, votes = [], []
            for i in range(start, min(n_requests, start + batch)):
                created = now - timedelta(minutes=(n_requests - i))
                pending = i % pending_every == 0
                rows.append(dict(id=i + 1, shop_domain="s.myshopify.com", order_gid=f"gid://shopify/Order/{i + 1}",
                                 order_name=f"#{1000 + i}", status="pending" if pending else "approved", version=0,
                                 policy_id="staff" if i % 2 else "big", policy_hash="0" * 64, reasons=["seeded"],
                                 order_snapshot={"name": f"#{1000 + i}", "total_price": "10.00", "currency": "USD",
                                                 "legacy_id": str(i + 1), "line_items": []},
                                 channel="C0APPROVALS", hold_state="placed", hold_ids=[], created_at=created,
                                 updated_at=created, decided_by=None if pending else "U0BEN",
                                 decided_at=None if pending else created + timedelta(minutes=7)))
                if not pending:
                    votes.append(dict(request_id=i + 1, user_id="U0BEN", vote="approve", fields={},
                                      at=created + timedelta(minutes=7)))
            await conn.execute(insert(ApprovalRequest), [_full(ApprovalRequest, r) for r in rows])
            if votes:
                await conn.execute(insert(Decision), votes)
        say(f"  {n_requests:,} requests seeded in {time.monotonic() - started:.1f}s")
        started, prev = time.monotonic(), GENESIS
        for start in range(0, n_events, batch * 2):
            rows = []
            for i in range(start, min(n_events, start + batch * 2)):
                at = now - timedelta(seconds=n_events - i)
                request_id = (i % n_requests) + 1
                data = {"i": i}
                h = compute_hash(prev, at=at, shop_domain="s.myshopify.com", request_id=request_id, actor="U0BEN",
                                 kind="seeded", data=data)
                rows.append(dict(at=at, shop_domain="s.myshopify.com", request_id=request_id, actor="U0BEN",
                                 kind="seeded", data=data, prev_hash=prev, hash=h))
                prev = h
            await conn.execute(insert(AuditEvent), rows)
            if (start // (batch * 2)) % 20 == 0:
                say(f"  {start + len(rows):,} audit events…")
        say(f"  {n_events:,} audit events seeded in {time.monotonic() - started:.1f}s")
        if rt.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            for table in ("approval_request", "decision", "audit_event"):
                await conn.execute(text(f"ANALYZE {table}"))
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('approval_request', 'id'), :n)"),
                               {"n": n_requests})
        else:
            from sqlalchemy import text

            await conn.execute(text("ANALYZE"))


async def measure(rt, n_requests: int, repeats: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, (user, template) in COMMANDS.items():
        times = []
        for r in range(repeats):
            text = template.format(order=1000 + (r * 7919) % n_requests)
            started = time.perf_counter()
            reply = await run(rt, user=user, text=text)
            times.append((time.perf_counter() - started) * 1000)
            assert reply.blocks, f"{name} returned nothing"
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        out[name] = {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(p95, 2),
                     "p95_window_ratio": round(p95 / WINDOW_MS, 4)}
    return out


async def one(db: str, n_requests: int, n_events: int, repeats: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="holdfast-bench-")
    admin, name = None, None
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    else:
        import asyncpg

        base = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        name = f"holdfast_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(base)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    say(f"{db}: seeding…")
    rt = build_runtime(Settings(database_url=url), policies=load_text(POLICIES))
    try:
        await migrate(rt.engine)
        await seed(rt, n_requests, n_events)
        say(f"{db}: measuring…")
        return await measure(rt, n_requests, repeats)
    finally:
        await rt.engine.dispose()
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--requests", type=int, default=100_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=40)
    args = p.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    result = {"bench": "reports_at_size", "requests": args.requests, "audit_events": args.events,
              "window_ms": WINDOW_MS}
    for db in dbs:
        result[db] = await one(db, args.requests, args.events, args.repeats)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
