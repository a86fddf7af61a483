"""The database-reduced figures equal the Python ones on the same data."""

from datetime import UTC, datetime, timedelta

from bot.reports.figures import Outcome, VoteRow, breached_ids, figures, figures_from_rows

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SLA = {"staff": timedelta(hours=1), "big": None}


def outcome(i, policy, status, minutes, votes):
    return Outcome(request_id=i, shop="s", order_name=f"#{i}", order_gid=f"g{i}", policy_id=policy, status=status,
                   created_at=T0, decided_at=T0 + timedelta(minutes=minutes), decided_by=votes[-1][0],
                   sla=SLA[policy], votes=tuple(VoteRow(u, v, T0, {}) for u, v in votes))


OUTCOMES = [outcome(1, "staff", "approved", 5, [("U1", "approve")]),
            outcome(2, "staff", "rejected", 90, [("U2", "reject")]),
            outcome(3, "big", "approved", 600, [("U1", "approve"), ("U2", "approve")]),
            outcome(4, "staff", "approved", 120, [("U1", "approve")]),
            outcome(5, "big", "expired", 30, [("U3", "approve")])]


def test_same_figures_from_rows_and_counts():
    rows = [(o.request_id, o.policy_id, o.status, o.time_to_decision.total_seconds()) for o in OUTCOMES]
    counts = {}
    for o in OUTCOMES:
        for v in o.votes:
            counts[(v.user, v.vote)] = counts.get((v.user, v.vote), 0) + 1
    late = breached_ids(rows, SLA)
    assert late == [4, 2]  # slowest first; "big" has no SLA
    examples = tuple(o for o in OUTCOMES if o.request_id in late[:1])
    fast = figures_from_rows(rows, [(u, v, n) for (u, v), n in counts.items()], examples, len(late))
    slow = figures(OUTCOMES)
    for name in ("total", "by_outcome", "by_approver", "by_policy", "median", "p90"):
        assert getattr(fast, name) == getattr(slow, name), name
    assert list(fast.by_approver) == list(slow.by_approver)  # same leaderboard order
    assert fast.breaches_total == slow.breaches_total == 2 and [o.request_id for o in fast.breaches] == [4]
