"""`/approvals history|audit|stats` and the permission matrix, end to end over signed HTTP."""

import asyncio
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.blocks.ids import ActionId
from bot.reports.export import COLUMNS
from bot.reports.figures import duration_text, percentile
from storage.models import ApprovalRequest, AuditEvent, Decision
from tests.e2e.approvals_helpers import BIG, approvals_stack, command, flagged, more, text_of, texts


@pytest.fixture
async def stack(database_url):
    # A tiny default SLA so that a decision taken after a short wait breaches it.
    async with approvals_stack(database_url, sla_default_s=0.5) as s:
        yield s


async def decided_world(stack):
    """Three decisions: Ana approves a staff order, Ben rejects another (late), Ben approves a big one."""
    fast, slow = await flagged(stack, 2)
    [big] = await flagged(stack, **BIG)
    await stack.click(fast, ActionId.APPROVE, "U0ANA")
    await stack.click(big, ActionId.APPROVE, "U0BEN")
    await stack.settle()
    await asyncio.sleep(0.6)  # past the 0.5 s SLA
    await stack.click(slow, ActionId.REJECT, "U0BEN")
    await stack.settle()
    return [await stack.request_for(stack.shopify.orders[r.order_gid]) for r in (fast, slow, big)]


async def dm_files(stack, user):
    channel, _ = stack.slack.open_dm(user)
    return [f for f in stack.slack.files if f["channel_id"] == channel]


MATRIX = [  # user, role, may run queue, may run history/audit/stats
    ("U0EVE", "nobody", False, False),
    ("U0ANA", "approver", True, False),
    ("U0MAX", "manager (listed)", True, True),
    ("U0GIL", "manager (through a user group)", True, True),
]


@pytest.mark.parametrize("user,role,queue,manager", MATRIX, ids=[m[1] for m in MATRIX])
async def test_permission_matrix_every_subcommand(stack, user, role, queue, manager):
    [req] = await flagged(stack)
    allowed = {"queue": queue, f"history {req.order_name}": manager, "audit": manager, "stats": manager, "help": True}
    for text, ok in allowed.items():
        reply = text_of(stack, await command(stack, text, user))
        assert ("not available to you" not in reply) == ok, (role, text, reply)
    refused = [e for e in await stack.audit_trail() if e.kind == "command.refused"]
    assert [e.data["subcommand"] for e in refused] == [t.split()[0] for t, ok in allowed.items() if not ok]
    assert all(e.actor == user for e in refused)


async def test_history_by_name_id_and_admin_url_shows_every_event(stack):
    fast, _, _ = await decided_world(stack)
    legacy = fast.order_snapshot["legacy_id"]
    for ref in (fast.order_name, legacy, f"https://admin.shopify.com/store/demo-store/orders/{legacy}"):
        reply = await command(stack, f"history {ref}", "U0MAX")
        text = text_of(stack, reply)
        assert f"History of {fast.order_name}" in text and "*approved* by <@U0ANA>" in texts(reply)
        for event in await stack.audit_trail(fast.id):
            assert event.kind in text
        assert "vote: approve" in text and "hold_ids" in text  # fields and what Shopify did
    assert "No approval request was ever made" in text_of(stack, await command(stack, "history #9999", "U0MAX"))


async def test_history_paginates_long_trails(stack):
    [req] = await flagged(stack)
    async with stack.rt.sessions() as session:
        before = len((await session.exec(select(AuditEvent).where(AuditEvent.request_id == req.id))).all())
    for _ in range(60 - before):  # refused clicks are audited: a long trail through the real flow
        await stack.click(req, ActionId.APPROVE, "U0EVE")
    await stack.settle()
    trail = await stack.audit_trail(req.id)
    first = await command(stack, f"history {req.order_name}", "U0MAX")
    assert len(first["blocks"]) <= 50
    pages, reply = [first], first
    while any(e.get("action_id") == ActionId.MORE for b in reply["blocks"] if b["type"] == "actions"
              for e in b["elements"]):
        reply = await more(stack, reply, "U0MAX")
        pages.append(reply)
    shown = sum(sum(1 for b in p["blocks"] if b["type"] == "context") for p in pages)
    assert len(pages) >= 2 and shown == len(trail)


async def test_audit_summary_and_csv_in_the_dm_match_the_store(stack):
    await decided_world(stack)
    reply = await command(stack, "audit", "U0MAX")
    text = text_of(stack, reply)
    assert "3 decision(s)" in text and "2 approved, 1 rejected" in text and "CSV of these 3" in text
    await stack.settle()
    [shared] = await dm_files(stack, "U0MAX")
    assert shared["filename"].startswith("holdfast-audit-") and shared["filename"].endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(shared["content"].decode())))
    assert tuple(csv.reader(io.StringIO(shared["content"].decode())).__next__()) == COLUMNS
    async with stack.rt.sessions() as session:
        reqs = (await session.exec(select(ApprovalRequest).where(ApprovalRequest.status != "pending")
                                   .order_by(col(ApprovalRequest.decided_at)))).all()
        votes = (await session.exec(select(Decision))).all()
    assert [int(r["request_id"]) for r in rows] == [r.id for r in reqs]
    for row, req in zip(rows, reqs):
        assert (row["order"], row["policy"], row["outcome"], row["decided_by"]) == (
            req.order_name, req.policy_id, req.status, req.decided_by)
        assert float(row["time_to_decision_s"]) == pytest.approx((req.decided_at - req.created_at).total_seconds(), abs=1e-3)
        assert row["decided_at"] == req.decided_at.isoformat()
        assert row["votes"].split()[:2] == [v.user_id for v in votes if v.request_id == req.id][:1] + [
            v.vote for v in votes if v.request_id == req.id][:1]
        assert row["sla_breached"] == ("yes" if req.decided_at - req.created_at > timedelta(seconds=0.5) else "no")
    exported = [e for e in await stack.audit_trail() if e.kind == "report.exported"]
    assert exported and exported[0].actor == "U0MAX" and exported[0].data["rows"] == 3


@pytest.mark.parametrize("filters,expect", [
    ("<@U0ANA|ana>", ["fast"]),
    ("U0BEN rejected", ["slow"]),
    ("approved", ["fast", "big"]),
    ("policy:high-value", ["big"]),
    ("since 1d", ["fast", "slow", "big"]),
    ("until 2001-01-01", []),
    ("expired", []),
])
async def test_audit_filters(stack, filters, expect):
    fast, slow, big = await decided_world(stack)
    names = {"fast": fast, "slow": slow, "big": big}
    text = text_of(stack, await command(stack, f"audit {filters}", "U0GIL"))
    assert f"{len(expect)} decision(s)" in text
    await stack.settle()
    [shared] = await dm_files(stack, "U0GIL")
    rows = list(csv.DictReader(io.StringIO(shared["content"].decode())))
    assert sorted(int(r["request_id"]) for r in rows) == sorted(names[k].id for k in expect)


async def test_stats_figures_without_a_file(stack):
    reqs = await decided_world(stack)
    text = texts(await command(stack, "stats since 7d", "U0MAX"))
    times = [r.decided_at - r.created_at for r in reqs]
    assert f"*Median time to decision*\n{duration_text(percentile(times, 50))}" in text
    assert f"*90th percentile*\n{duration_text(percentile(times, 90))}" in text
    assert re.search(r"<@U0BEN>: 1 approve, 1 reject", text) and "<@U0ANA>: 1 approve" in text
    assert "Staff order: 1 approved, 1 rejected" in text and "High-value order: 1 approved" in text
    assert "SLA breaches: " in text
    await stack.settle()
    assert await dm_files(stack, "U0MAX") == []  # stats sends no file
