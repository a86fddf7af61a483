"""Pure reporting core: command parsing, report maths, exports, and the Block Kit builders' limits."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.approvals.policies import load_text
from bot.blocks.home import RecentVote, home_view
from bot.blocks.queue import MESSAGE_BLOCKS, PAGE_SIZE, PageRef, QueueItem, queue_blocks
from bot.blocks.reports import HistoryEvent, HistoryRequest, help_blocks, history_blocks, report_blocks
from bot.reports.export import COLUMNS, events_csv, outcome_record, outcomes_csv, outcomes_jsonl
from bot.reports.figures import Outcome, VoteRow, Waiting, duration_text, figures, percentile, sla_for
from bot.reports.query import OrderRef, Query, Sub, parse, parse_order, parse_when
from sandbox.slack.blockkit import check_message, check_view

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize("text,expect", [
    ("", Query(sub=Sub.QUEUE)),
    ("queue", Query(sub=Sub.QUEUE)),
    ("queue policy:staff-orders mine", Query(sub=Sub.QUEUE, policy="staff-orders", mine=True)),
    ("mine", Query(sub=Sub.QUEUE, mine=True)),
    ("shop:demo-store", Query(sub=Sub.QUEUE, shop="demo-store.myshopify.com")),
    ("queue shop:a.example.com", Query(sub=Sub.QUEUE, shop="a.example.com")),
    ("history #1001", Query(sub=Sub.HISTORY, order=OrderRef(name="#1001"))),
    ("stats", Query(sub=Sub.STATS, since=NOW - 7 * 24 * H, until=NOW)),
    ("audit", Query(sub=Sub.AUDIT, since=NOW - 30 * 24 * H, until=NOW)),
    ("audit <@U0ANA|ana> policy:vip rejected expired since 7d",
     Query(sub=Sub.AUDIT, user="U0ANA", policy="vip", outcomes=("rejected", "expired"), since=NOW - 7 * 24 * H,
           until=NOW)),
    ("audit U0BEN since 2025-03-01 until 2025-03-05",
     Query(sub=Sub.AUDIT, user="U0BEN", since=datetime(2025, 3, 1, tzinfo=UTC), until=datetime(2025, 3, 6, tzinfo=UTC))),
    ("stats until 2025-03-05", Query(sub=Sub.STATS, since=datetime(2025, 2, 27, tzinfo=UTC),
                                     until=datetime(2025, 3, 6, tzinfo=UTC))),
    ("STATS since 12h", Query(sub=Sub.STATS, since=NOW - 12 * H, until=NOW)),
])
def test_parse(text, expect):
    assert parse(text, NOW) == expect


@pytest.mark.parametrize("text,problem,topic", [
    ("help", None, None),
    ("help audit", None, Sub.AUDIT),
    ("wat", "I did not understand `wat`", None),
    ("queue rejected", "I did not understand `rejected` in `queue`", Sub.QUEUE),
    ("history", "`history` takes one order", Sub.HISTORY),
    ("history #1 #2", "`history` takes one order", Sub.HISTORY),
    ("history a b c", "`history` takes one order", Sub.HISTORY),
    ("audit since", "`since` needs a date", Sub.AUDIT),
    ("audit since soon", "`soon` is not a date", Sub.AUDIT),
    ("stats since 2025-03-05 until 2025-03-01", "`since` must come before `until`", Sub.STATS),
    ("audit mine", "I did not understand `mine` in `audit`", Sub.AUDIT),
])
def test_unknown_input_becomes_help(text, problem, topic):
    query = parse(text, NOW)
    assert query.sub is Sub.HELP and query.topic == topic
    assert (query.problem or "").startswith(problem or "") and bool(query.problem) == bool(problem)


@pytest.mark.parametrize("value,expect", [
    ("#1001", OrderRef(name="#1001")),
    ("1001", OrderRef(name="#1001", legacy_id="1001")),
    ("gid://shopify/Order/5000000001", OrderRef(legacy_id="5000000001")),
    ("https://admin.shopify.com/store/demo/orders/5000000001", OrderRef(legacy_id="5000000001")),
    ("<https://demo.myshopify.com/admin/orders/77?x=1>", OrderRef(legacy_id="77")),
    ("<https://admin.shopify.com/store/demo/orders/9|link>", OrderRef(legacy_id="9")),
    ("#SO-12", OrderRef(name="#SO-12")),
    ("drop table", None),
])
def test_parse_order(value, expect):
    assert parse_order(value) == expect


@pytest.mark.parametrize("value,end,expect", [
    ("7d", False, NOW - 7 * 24 * H),
    ("2w", False, NOW - 14 * 24 * H),
    ("2025-03-01", False, datetime(2025, 3, 1, tzinfo=UTC)),
    ("2025-03-01", True, datetime(2025, 3, 2, tzinfo=UTC)),
    ("2025-03-01T10:30:00", False, datetime(2025, 3, 1, 10, 30, tzinfo=UTC)),
    ("2025-03-01T10:30:00+02:00", False, datetime(2025, 3, 1, 8, 30, tzinfo=UTC)),
])
def test_parse_when(value, end, expect):
    assert parse_when(value, NOW, end=end) == expect


def test_query_payload_round_trips():
    query = parse("audit U0ANA rejected policy:vip since 7d", NOW)
    assert Query.from_payload(json.loads(json.dumps(query.payload()))) == query


@pytest.mark.parametrize("values,q,expect", [
    ([], 50, None),
    ([5], 50, 5),
    ([5], 90, 5),
    ([1, 2], 50, 1.5),
    ([1, 2, 3], 50, 2),
    ([3, 1, 2, 4], 50, 2.5),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1),
    ([10, 1, 1, 1, 1, 1, 1, 1, 1, 1], 90, 1.9),
    ([0, 100], 90, 90),
])
def test_percentile_interpolates_between_closest_ranks(values, q, expect):
    got = percentile([timedelta(minutes=v) for v in values], q)
    assert got == (None if expect is None else timedelta(minutes=expect))


POLICIES = load_text("""
policies:
  - {id: plain, channel: C01, approvers: {users: [U01]}, when: {order_tag: a}}
  - {id: expires, channel: C01, approvers: {users: [U01]}, when: {order_tag: b}, timers: {expire_after: 2h, escalate_after: 1h, escalate_to: {users: [U02]}}}
  - {id: escalates, channel: C01, approvers: {users: [U01]}, when: {order_tag: c}, timers: {escalate_after: 3h, escalate_to: {channel: C02}}}
""")


@pytest.mark.parametrize("policy,default,expect", [
    ("plain", timedelta(hours=24), timedelta(hours=24)),
    ("plain", None, None),
    ("expires", timedelta(hours=24), timedelta(hours=2)),
    ("escalates", None, timedelta(hours=3)),
    ("gone", timedelta(hours=5), timedelta(hours=5)),
])
def test_sla_is_expiry_else_escalation_else_default(policy, default, expect):
    assert sla_for(POLICIES.get(policy), default) == expect


def outcome(i, status, hours, *, policy="plain", by="U1", votes=(("U1", "approve"),), sla=timedelta(hours=2)):
    created = NOW - timedelta(days=1)
    return Outcome(request_id=i, shop="s.myshopify.com", order_name=f"#{1000 + i}", order_gid=f"gid://shopify/Order/{i}",
                   policy_id=policy, status=status, created_at=created, decided_at=created + hours * H, decided_by=by,
                   sla=sla, votes=tuple(VoteRow(u, v, created + hours * H) for u, v in votes))


def test_figures_counts_times_and_breaches():
    rows = [outcome(1, "approved", 1), outcome(2, "approved", 3, votes=(("U1", "approve"), ("U2", "approve"))),
            outcome(3, "rejected", 0.5, policy="vip", by="U2", votes=(("U2", "reject"),)),
            outcome(4, "expired", 10, by="holdfast", votes=(), sla=None)]
    waiting = [Waiting(9, "#9", "plain", NOW - 3 * H, timedelta(hours=2)), Waiting(8, "#8", "plain", NOW - H, timedelta(hours=2)),
               Waiting(7, "#7", "plain", NOW - 30 * H, None)]
    fig = figures(rows, waiting, now=NOW)
    assert fig.total == 4
    assert fig.by_outcome == {"approved": 2, "expired": 1, "rejected": 1}
    assert fig.by_approver == {"U1": {"approve": 2}, "U2": {"approve": 1, "reject": 1}}
    assert fig.by_policy == {"plain": {"approved": 2, "expired": 1}, "vip": {"rejected": 1}}
    assert (fig.median, fig.p90) == (2 * H, percentile([H, 3 * H, H / 2, 10 * H], 90))
    assert [o.request_id for o in fig.breaches] == [2]  # 3h against 2h; the expired one has no SLA
    assert [w.request_id for w in fig.overdue] == [9]


def test_figures_of_nothing():
    fig = figures([], now=NOW)
    assert (fig.total, fig.median, fig.p90, fig.breaches, fig.by_outcome) == (0, None, None, (), {})


@pytest.mark.parametrize("delta,text", [
    (None, "–"), (timedelta(seconds=12), "12s"), (timedelta(minutes=4, seconds=5), "4m"),
    (timedelta(hours=3, minutes=12), "3h 12m"), (timedelta(days=2, hours=3, minutes=1), "2d 3h"),
    (timedelta(seconds=-5), "0s"),
])
def test_duration_text(delta, text):
    assert duration_text(delta) == text


def test_csv_and_jsonl_exports():
    rows = [outcome(1, "approved", 1), outcome(2, "rejected", 3, votes=(("U2", "reject"),))]
    rows[1] = Outcome(**{**rows[1].__dict__, "votes": (VoteRow("U2", "reject", NOW, {"reason": "no, \"really\""}),)})
    parsed = list(csv.reader(io.StringIO(outcomes_csv(rows))))
    assert tuple(parsed[0]) == COLUMNS and len(parsed) == 3
    second = dict(zip(COLUMNS, parsed[2]))
    assert second["sla_breached"] == "yes" and second["time_to_decision_s"] == "10800.0" and second["order_id"] == "2"
    assert json.loads(second["fields"]) == {"U2": {"reason": 'no, "really"'}}
    assert [json.loads(line) for line in outcomes_jsonl(rows).splitlines()] == [
        json.loads(json.dumps(outcome_record(r))) for r in rows]
    assert outcomes_csv([]).strip() == ",".join(COLUMNS)


def test_events_csv_keeps_hashes_and_json_data():
    class E:
        id, at, shop_domain, request_id, actor, kind = 1, NOW, None, 3, "U1", "request.approved"
        data, prev_hash, hash = {"b": 1, "a": [1]}, "0" * 64, "f" * 64
    [row] = list(csv.DictReader(io.StringIO(events_csv([E]))))
    assert row["data"] == '{"a":[1],"b":1}'.replace(":", ": ").replace(",", ", ") and row["hash"] == "f" * 64
    assert events_csv([E], header=False).count("\n") == 1


def item(i, **kw):
    return QueueItem(id=i, version=0, shop="s.myshopify.com", order_name=f"#{1000 + i}", legacy_id=str(i),
                     total="1000000.5", currency="EUR", policy_title="P" * 80, created_at=NOW - i * H, **kw)


@pytest.mark.parametrize("n,has_more", [(0, False), (1, False), (PAGE_SIZE, True)])
def test_queue_pages_fit_the_message_limit(n, has_more):
    more = PageRef(q="queue mine " + "x" * 1400, at=NOW, id=n) if has_more else None
    blocks = queue_blocks([item(i, votes="1 of 2: approved by <@U1>") for i in range(n)], NOW, filters="", more=more)
    assert check_message(blocks) == [] and len(blocks) <= MESSAGE_BLOCKS
    assert (blocks[-1]["type"] == "actions" and blocks[-1]["elements"][0]["action_id"] == "approvals-more") == has_more
    if has_more:
        assert PageRef.parse(blocks[-1]["elements"][0]["value"]) == more
    assert PageRef.parse("nonsense") is None and PageRef.parse('{"q": 1}') is None


def test_history_cuts_at_the_block_limit_and_continues_where_it_stopped():
    reqs = [HistoryRequest(i, "s", "#1", "P", "approved", NOW, "U1") for i in range(1, 4)]
    events = [HistoryEvent(i, 1 + i % 3, NOW, "U1" if i % 2 else "shopify", "k" * 60, {"x": "<&>" * 400})
              for i in range(1, 40)]
    blocks = history_blocks(reqs, events, q="history #1", label="#1", has_more=False)
    assert check_message(blocks) == [] and len(blocks) <= MESSAGE_BLOCKS
    ref = PageRef.parse(blocks[-1]["elements"][0]["value"])
    shown = sum(1 for b in blocks if b["type"] == "context")
    assert ref.q == "history #1" and ref.id == events[shown - 1].id


def test_report_and_help_blocks_are_valid():
    rows = [outcome(i, "approved", i, by=f"U{i}", votes=((f"U{i}", "approve"),), policy=f"p{i}") for i in range(30)]
    query = parse("audit", NOW)
    blocks = report_blocks(query, figures(rows, now=NOW), filters="", titles={}, csv_note="file")
    assert check_message(blocks) == [] and "…and 20 more" in json.dumps(blocks, ensure_ascii=False)
    for manager in (True, False):
        assert check_message(help_blocks(parse("wat", NOW), manager=manager)) == []
    assert "/approvals audit" not in json.dumps(help_blocks(parse("help", NOW), manager=False))
    assert "/approvals audit" in json.dumps(help_blocks(parse("help audit", NOW), manager=False))


def test_home_view_stays_within_the_view_limit():
    from bot.blocks.home import ManagerPanel

    fig = figures([outcome(i, "approved", i) for i in range(5)], now=NOW)
    view = home_view(now=NOW, approver=True, waiting=[item(i) for i in range(40)], waiting_total=40,
                     recent=[RecentVote("#1", "approve", NOW, "approved")] * 20,
                     manager=ManagerPanel(fig, NOW - 7 * 24 * H, NOW, [item(i) for i in range(40)], {}))
    assert check_view(view) == [] and len(view["blocks"]) <= 100
    assert check_view(home_view(now=NOW, approver=False, waiting=[], waiting_total=0, recent=[], manager=None)) == []
