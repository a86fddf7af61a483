from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.approvals import machine
from bot.approvals.machine import AlreadyDecided, Decided, JobKind, Refused, RequestState, Status, Vote
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match, load_text

POLICIES = load_text("""
policies:
  - id: staff
    channel: C0APPROVALS
    approvers: {users: [U0ANA, U0BEN]}
    when: {customer_tag: staff}
    tags: {pending: p, approved: a, rejected: r}
""")
POLICY = POLICIES.get("staff")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def state(**over):
    base = dict(id=7, shop="s.myshopify.com", order_gid="gid://shopify/Order/1", status=Status.PENDING, version=0,
                policy_id="staff")
    base.update(over)
    return RequestState(**base)


def test_flag_tags_holds_and_posts_in_that_order():
    order = OrderFacts(gid="gid://shopify/Order/1", legacy_id="1", name="#1", currency="USD", total_price=Decimal(1))
    new = machine.flag("s.myshopify.com", order, Match(POLICY, ("customer tag `staff`",)))
    assert [e.kind for e in new.effects] == [JobKind.TAGS, JobKind.HOLD, JobKind.POST_REQUEST]
    assert new.effects[0].payload["add"] == ["p"]
    hold = new.effects[1]
    assert hold.payload["handle"] == machine.HOLD_HANDLE and len(machine.HOLD_HANDLE) <= 64
    assert "staff" in hold.payload["notes"]
    # Shopify effects share one ordering key, Slack effects another.
    assert new.effects[0].key == new.effects[1].key != new.effects[2].key
    assert new.audit["reasons"] == ["customer tag `staff`"]


@pytest.mark.parametrize(
    ("st", "policy", "user", "vote", "expect"),
    [
        (state(), POLICY, "U0ANA", Vote.APPROVE, (Decided, Status.APPROVED)),
        (state(), POLICY, "U0BEN", Vote.REJECT, (Decided, Status.REJECTED)),
        (state(), POLICY, "U0EVE", Vote.APPROVE, (Refused, "not an approver")),
        (state(requester="U0ANA"), POLICY, "U0ANA", Vote.APPROVE, (Refused, "You requested this order")),
        (state(), None, "U0ANA", Vote.APPROVE, (Refused, "no longer exists")),
        (state(status=Status.APPROVED, decided_by="U0BEN", decided_at=T0), POLICY, "U0ANA", Vote.REJECT,
         (AlreadyDecided, Status.APPROVED)),
        # Even a stranger learns only that it is decided; nothing changes.
        (state(status=Status.REJECTED, decided_by="U0BEN"), POLICY, "U0EVE", Vote.APPROVE,
         (AlreadyDecided, Status.REJECTED)),
    ],
)
def test_decide(st, policy, user, vote, expect):
    result = machine.decide(st, policy, user, vote)
    kind, detail = expect
    assert isinstance(result, kind)
    if kind is Decided or kind is AlreadyDecided:
        assert result.status == detail
    else:
        assert detail in result.reason


def test_approve_releases_then_swaps_tags_then_redraws():
    result = machine.decide(state(), POLICY, "U0ANA", Vote.APPROVE)
    assert [e.kind for e in result.effects] == [JobKind.RELEASE, JobKind.TAGS, JobKind.UPDATE_REQUEST]
    assert result.effects[1].payload == {"order_gid": "gid://shopify/Order/1", "add": ["a"], "remove": ["p"]}


def test_reject_keeps_the_hold():
    result = machine.decide(state(), POLICY, "U0ANA", Vote.REJECT)
    assert JobKind.RELEASE not in [e.kind for e in result.effects]
    assert result.effects[0].payload["add"] == ["r"]
