"""Table-driven tests of the pure timer maths, reconciliation decisions and the digest."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.approvals import digest, reconcile
from bot.approvals.machine import HOLD_HANDLE, Status
from bot.approvals.reconcile import Close, FoState, HoldReleased, OrderState, Requeue, Tracked, Unheld
from bot.approvals.schema import Timers
from bot.approvals.timers import (Timer, TimerKind, expiry_status, next_timer, not_voted, period_start, reminder_at,
                                  schedule, still_live)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def timers(**kw):
    return Timers.model_validate(kw)


@pytest.mark.parametrize("spec, n, expect", [
    ({}, 1, None),
    ({"remind_after": "1h"}, 1, T0 + H),
    ({"remind_after": "1h"}, 2, None),  # no remind_every: one reminder only
    ({"remind_after": "1h", "remind_every": "2h"}, 2, T0 + 3 * H),
    ({"remind_after": "1h", "remind_every": "2h"}, 3, T0 + 5 * H),
    ({"remind_after": "1h", "remind_every": "2h"}, 4, None),  # max_reminders defaults to 3
    ({"remind_after": "1h", "remind_every": "2h", "max_reminders": 0}, 1, None),
    ({"remind_after": "1h", "remind_every": "2h", "expire_after": "4h"}, 3, None),  # would land after expiry
    ({"remind_after": "1h", "remind_every": "1h", "expire_after": "3h"}, 3, None),  # at expiry: not sent
    ({"remind_after": "1h", "remind_every": "1h", "expire_after": "3h"}, 2, T0 + 2 * H),
])
def test_reminder_at(spec, n, expect):
    assert reminder_at(timers(**spec), T0, n) == expect


def test_schedule_starts_with_first_reminder_escalation_and_expiry():
    t = timers(remind_after="1h", remind_every="1h", escalate_after="2h", escalate_to={"channel": "C0ESC"},
               expire_after="5h", on_expire="reject")
    assert schedule(t, T0) == (Timer(TimerKind.REMIND, T0 + H, 1), Timer(TimerKind.ESCALATE, T0 + 2 * H),
                               Timer(TimerKind.EXPIRE, T0 + 5 * H))
    assert schedule(timers(), T0) == ()


@pytest.mark.parametrize("fired, expect", [
    (Timer(TimerKind.REMIND, T0 + H, 1), Timer(TimerKind.REMIND, T0 + 2 * H, 2)),
    (Timer(TimerKind.REMIND, T0 + 3 * H, 3), None),
    (Timer(TimerKind.ESCALATE, T0 + H), None),
    (Timer(TimerKind.EXPIRE, T0 + H), None),
])
def test_only_reminders_repeat_within_their_bound(fired, expect):
    assert next_timer(timers(remind_after="1h", remind_every="1h"), T0, fired) == expect


@pytest.mark.parametrize("status, live", [("pending", True), ("approved", False), ("rejected", False),
                                          ("expired", False), ("closed", False)])
def test_a_decision_cancels_timers(status, live):
    assert still_live(status) is live


@pytest.mark.parametrize("on_expire, status", [("keep_hold", Status.EXPIRED), ("reject", Status.REJECTED),
                                               ("approve", Status.APPROVED)])
def test_expiry_status(on_expire, status):
    assert expiry_status(on_expire) == status


def test_not_voted_keeps_policy_order_and_drops_voters():
    assert not_voted(["U1", "U2", "U3", "U1"], {"U2"}) == ["U1", "U3"]


@pytest.mark.parametrize("now, every, offset, start", [
    (datetime(2026, 3, 1, 9, 7, 30, tzinfo=UTC), timedelta(minutes=5), timedelta(0), datetime(2026, 3, 1, 9, 5, tzinfo=UTC)),
    (datetime(2026, 3, 1, 9, 5, tzinfo=UTC), timedelta(minutes=5), timedelta(0), datetime(2026, 3, 1, 9, 5, tzinfo=UTC)),
    (datetime(2026, 3, 1, 7, 59, tzinfo=UTC), timedelta(days=1), timedelta(hours=8), datetime(2026, 2, 28, 8, tzinfo=UTC)),
    (datetime(2026, 3, 1, 8, 0, tzinfo=UTC), timedelta(days=1), timedelta(hours=8), datetime(2026, 3, 1, 8, tzinfo=UTC)),
])
def test_period_start_is_the_same_on_every_instance(now, every, offset, start):
    assert period_start(now, every, offset=offset) == start


def fo(gid, status="ON_HOLD", holds=()):
    return FoState(gid, status, tuple(holds))


def order(cancelled=False, fulfilled=False, fos=(), tags=()):
    return OrderState("gid://shopify/Order/1", cancelled, fulfilled, tuple(tags), tuple(fos))


PLACED = Tracked(1, "pending", "placed", ("H1", "H2"), "holdfast-pending")


@pytest.mark.parametrize("req, state, expect", [
    (PLACED, None, Close("deleted")),
    (PLACED, order(cancelled=True), Close("cancelled")),
    (PLACED, order(fulfilled=True), Close("fulfilled")),
    (PLACED, order(fos=[fo("F1", holds=["H1"]), fo("F2", holds=["H2"])]), None),
    (PLACED, order(fos=[fo("F1", "OPEN"), fo("F2", holds=["H2"])]), HoldReleased(("H1",), ("H2",))),
    (PLACED, order(fos=[fo("F1", "OPEN"), fo("F2", "OPEN")]), HoldReleased(("H1", "H2"), ())),
    (PLACED, order(fos=[fo("F1", holds=["H1"]), fo("F2", holds=["H2"]), fo("F3", "OPEN")]), Unheld(("F3",))),
    (Tracked(1, "pending", "pending", (), "p"), order(fos=[fo("F1", "OPEN")]), None),  # hold job still working
])
def test_check_pending(req, state, expect):
    assert reconcile.check_pending(req, state) == expect


NOW = T0 + timedelta(hours=2)
GRACE = timedelta(minutes=5)


@pytest.mark.parametrize("status, state, busy, decided_at, expect", [
    ("approved", order(fos=[fo("F1", holds=["H1"])]), False, T0, Requeue(True, False, {"holds_still_on": ["H1"]})),
    ("approved", order(fos=[fo("F1", "OPEN")], tags=["holdfast-pending"]), False, T0,
     Requeue(False, True, {"tag_still_on": "holdfast-pending"})),
    ("approved", order(fos=[fo("F1", "OPEN")]), False, T0, None),
    ("approved", order(fos=[fo("F1", holds=["H1"])]), True, T0, None),  # its own jobs are still at work
    ("approved", order(fos=[fo("F1", holds=["H1"])]), False, NOW - timedelta(minutes=1), None),  # within grace
    ("rejected", order(fos=[fo("F1", holds=["H1"])]), False, T0, None),  # a rejection keeps the hold
    ("approved", order(cancelled=True, fos=[fo("F1", holds=["H1"])]), False, T0, None),
])
def test_check_decided(status, state, busy, decided_at, expect):
    req = Tracked(1, status, "placed", ("H1",), "holdfast-pending", decided_at)
    assert reconcile.check_decided(req, state, now=NOW, grace=GRACE, busy=busy) == expect


def test_order_state_reads_only_our_holds():
    node = {"id": "gid://shopify/Order/1", "cancelledAt": None, "displayFulfillmentStatus": "ON_HOLD", "tags": ["x"],
            "fulfillmentOrders": {"nodes": [{"id": "F1", "status": "ON_HOLD", "fulfillmentHolds": [
                {"id": "H1", "handle": HOLD_HANDLE}, {"id": "H9", "handle": "fraud-app"}]}]}}
    state = reconcile.order_state(node)
    assert state.our_holds == {"H1"} and not state.cancelled and reconcile.should_flag(state)


def test_watermark_query_overlaps_and_never_moves_back():
    assert reconcile.watermark_query(T0, timedelta(minutes=2), T0 + H + timedelta(microseconds=5)) == \
        "updated_at:>'2026-03-01T08:58:00Z' updated_at:<='2026-03-01T10:00:01Z'"
    assert reconcile.advance(T0, [T0 - H]) == T0 and reconcile.advance(T0, [T0 + H]) == T0 + H


def test_digest_counts_pending_oldest_decisions_and_breaches():
    rows = [
        digest.Row(1, "#1", "p", "pending", NOW - 30 * H),
        digest.Row(2, "#2", "p", "pending", NOW - H),
        digest.Row(3, "#3", "p", "approved", NOW - 10 * H, NOW - 9 * H),
        digest.Row(4, "#4", "p", "rejected", NOW - 40 * H, NOW - 2 * H),
        digest.Row(5, "#5", "p", "approved", NOW - 50 * H, NOW - 48 * H),  # decided the day before: not counted
    ]
    d = digest.summarise(rows, now=NOW, sla_for=lambda _: 24 * H)
    assert d.pending == 2 and d.oldest.id == 1 and d.oldest_age == 30 * H
    assert d.decided == {"approved": 1, "rejected": 1}
    assert [b.row.id for b in d.breaches] == [4, 1]
