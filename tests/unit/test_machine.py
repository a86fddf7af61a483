from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.approvals import machine
from bot.approvals.effects import JobKind
from bot.approvals.machine import (AlreadyDecided, AlreadyVoted, Ballot, Decided, Recorded, Refused,
                                   RequestState, Status, Vote)
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match, load_text

POLICIES = load_text("""
policies:
  - id: staff
    channel: C0APPROVALS
    approvers: {users: [U0ANA, U0BEN]}
    when: {customer_tag: staff}
    tags: {pending: p, approved: a, rejected: r}
  - id: two
    channel: C0APPROVALS
    approvers: {users: [U0ANA, U0BEN, U0CAT], required: 2}
    when: {customer_tag: b2b}
    on_reject: cancel
    cancel: {reason: FRAUD, restock: false}
  - id: release
    channel: C0APPROVALS
    approvers: {groups: [S0FIN], rejections_required: 2}
    when: {customer_tag: x}
    on_reject: release
""")
STAFF, TWO, RELEASE = (POLICIES.get(i) for i in ("staff", "two", "release"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def state(**over):
    base = dict(id=7, shop="s.myshopify.com", order_gid="gid://shopify/Order/1", status=Status.PENDING, version=0,
                policy_id="staff", order_name="#1")
    base.update(over)
    return RequestState(**base)


def ballot(user="U0ANA", vote=Vote.APPROVE, eligible=True, **fields):
    return Ballot(user, vote, eligible, fields)


def kinds(result):
    return [e.kind for e in result.effects]


def test_flag_tags_and_holds_in_one_job_then_posts():
    order = OrderFacts(gid="gid://shopify/Order/1", legacy_id="1", name="#1", currency="USD", total_price=Decimal(1))
    new = machine.flag("s.myshopify.com", order, Match(STAFF, ("customer tag `staff`",)))
    assert [e.kind for e in new.effects] == [JobKind.HOLD, JobKind.POST_REQUEST]
    hold = new.effects[0]
    assert hold.payload["tags"] == ["p"]
    assert hold.payload["handle"] == machine.HOLD_HANDLE and len(machine.HOLD_HANDLE) <= 64
    assert "staff" in hold.payload["notes"]
    # Shopify effects share one ordering key (the decision's come after the hold), Slack effects another.
    assert hold.key == machine.shopify_key("s.myshopify.com", order.gid) != new.effects[1].key
    assert new.audit["reasons"] == ["customer tag `staff`"]


@pytest.mark.parametrize(
    ("st", "policy", "b", "expect"),
    [
        (state(), STAFF, ballot(), (Decided, Status.APPROVED)),
        (state(), STAFF, ballot("U0BEN", Vote.REJECT), (Decided, Status.REJECTED)),
        (state(), STAFF, ballot("U0EVE", eligible=False), (Refused, "not an approver")),
        (state(requester="U0ANA"), STAFF, ballot(), (Refused, "You requested this order")),
        (state(requester="U0ANA"), STAFF, ballot(vote=Vote.REJECT), (Refused, "You requested this order")),
        (state(creator="U0ANA"), STAFF, ballot(), (Refused, "You created this order")),
        (state(), None, ballot(), (Refused, "no longer exists")),
        (state(status=Status.APPROVED, decided_by="U0BEN", decided_at=T0), STAFF, ballot(vote=Vote.REJECT),
         (AlreadyDecided, Status.APPROVED)),
        # Even a stranger learns only that it is decided; nothing changes.
        (state(status=Status.REJECTED, decided_by="U0BEN"), STAFF, ballot("U0EVE", eligible=False),
         (AlreadyDecided, Status.REJECTED)),
        (state(policy_id="two", votes=(("U0ANA", Vote.APPROVE),)), TWO, ballot(), (AlreadyVoted, Vote.APPROVE)),
        (state(policy_id="two"), TWO, ballot(), (Recorded, "1 of 2: approved by <@U0ANA>")),
        (state(policy_id="two", votes=(("U0ANA", Vote.APPROVE),)), TWO, ballot("U0BEN"), (Decided, Status.APPROVED)),
        # One rejection ends an N-of-M request unless the policy asks for more.
        (state(policy_id="two", votes=(("U0ANA", Vote.APPROVE),)), TWO, ballot("U0BEN", Vote.REJECT),
         (Decided, Status.REJECTED)),
        (state(policy_id="release"), RELEASE, ballot("U0BEN", Vote.REJECT), (Recorded, "0 of 1: rejected by <@U0BEN>")),
    ],
)
def test_decide(st, policy, b, expect):
    result = machine.decide(st, policy, b)
    kind, detail = expect
    assert isinstance(result, kind), result
    if kind in (Decided, AlreadyDecided):
        assert result.status == detail
    elif kind is AlreadyVoted:
        assert result.vote == detail
    elif kind is Recorded:
        assert result.progress == detail
        assert JobKind.RELEASE not in kinds(result) and JobKind.UPDATE_REQUEST in kinds(result)
    else:
        assert detail in result.reason


def test_approve_releases_swaps_tags_writes_the_note_and_redraws():
    result = machine.decide(state(), STAFF, ballot(cost_centre="CC-7"))
    assert kinds(result) == [JobKind.RELEASE, JobKind.TAGS, JobKind.UPDATE_REQUEST, JobKind.THREAD_NOTICE]
    assert result.effects[1].payload == {"order_gid": "gid://shopify/Order/1", "add": ["a"], "remove": ["p"],
                                         "note": {"status": "approved", "by": "U0ANA", "fields": {"cost_centre": "CC-7"}}}
    assert "cost_centre: CC-7" in result.effects[-1].payload["text"]  # the thread hears of it after the redraw


@pytest.mark.parametrize(
    ("policy", "st", "shopify_kind"),
    [(STAFF, state(), None), (TWO, state(policy_id="two"), JobKind.CANCEL),
     (RELEASE, state(policy_id="release", votes=(("U0ANA", Vote.REJECT),)), JobKind.RELEASE)],
)
def test_reject_does_what_the_policy_says(policy, st, shopify_kind):
    result = machine.decide(st, policy, ballot("U0BEN", Vote.REJECT, reason="no"))
    assert isinstance(result, Decided) and result.status is Status.REJECTED
    touched = {JobKind.RELEASE, JobKind.CANCEL} & set(kinds(result))
    assert touched == ({shopify_kind} if shopify_kind else set())
    if shopify_kind is JobKind.CANCEL:
        cancel = next(e for e in result.effects if e.kind is JobKind.CANCEL)
        assert (cancel.payload["reason"], cancel.payload["restock"]) == ("FRAUD", False)


def test_requester_hears_the_outcome_by_dm():
    result = machine.decide(state(requester="U0SAM", order_name="#D7"), STAFF, ballot())
    [dm] = [e for e in result.effects if e.kind is JobKind.DM]
    assert dm.payload["user"] == "U0SAM" and "#D7 was approved by <@U0ANA>" in dm.payload["text"]


def test_progress_text():
    votes = (("U1", Vote.APPROVE), ("U2", Vote.REJECT))
    assert machine.progress(TWO, votes) == "1 of 2: approved by <@U1>; rejected by <@U2>"
    assert machine.progress(TWO, ()) == "0 of 2"


@pytest.mark.parametrize(("typed", "shown"), [
    ("Ship <today> & *carefully*", "Ship &lt;today&gt; &amp; *carefully*"),  # no link, no entity, mrkdwn kept
    ("<@U0EVE>", "&lt;@U0EVE&gt;"),  # a typed mention does not ping anyone
    ("plain", "plain"),
])
def test_typed_fields_are_escaped_in_the_vote_notice(typed, shown):
    result = machine.decide(state(), STAFF, ballot(note=typed))
    notice = next(e for e in result.effects if e.kind is JobKind.THREAD_NOTICE)
    assert notice.payload["text"].endswith(f"• note: {shown}")
    assert machine.fields_text(STAFF, {"note": typed}) == f"• note: {shown}"
