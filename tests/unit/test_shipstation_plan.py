"""What the ShipStation jobs change, given the shipment as read: nothing when it is done already."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.features.shipstation import line, plan
from bot.features.shipstation.plan import Refusal, Step

TODAY = date(2026, 12, 8)
UNTIL = date(2027, 1, 7)


@dataclass(frozen=True)
class Ship:  # the fields of bot/shipstation/model.py Shipment that the plan reads
    status: str = "pending"
    hold_until: date | None = None
    tags: tuple[str, ...] = ()
    warehouse_id: str | None = "wh-1"


@dataclass(frozen=True)
class OnFlag:
    hold: bool = True
    tags: tuple[str, ...] = ("awaiting-approval",)


@dataclass(frozen=True)
class Route:
    tags: tuple[str, ...] = ("approved-sample",)
    warehouse: str | None = "Samples room"


@dataclass(frozen=True)
class OnReject:
    keep_hold: bool = True
    tags: tuple[str, ...] = ("rejected",)


@dataclass(frozen=True)
class Rules:
    on_flag: OnFlag = field(default_factory=OnFlag)
    on_approve: Route = field(default_factory=Route)
    on_reject: OnReject = field(default_factory=OnReject)


RULES = Rules()


@pytest.mark.parametrize(("shipment", "rules", "expected"), [
    (Ship(), RULES, (Step("add_tag", "awaiting-approval"), Step("hold", UNTIL))),
    # Done already (a second run): nothing.
    (Ship("on_hold", UNTIL, ("awaiting-approval",)), RULES, ()),
    (Ship("on_hold", UNTIL + timedelta(days=9), ("Awaiting-Approval",)), RULES, ()),
    # Held by someone else until sooner: pushed out, the tag added.
    (Ship("on_hold", TODAY + timedelta(days=1)), RULES, (Step("add_tag", "awaiting-approval"), Step("hold", UNTIL))),
    (Ship("processing", tags=("vip",)), Rules(on_flag=OnFlag(tags=())), (Step("hold", UNTIL),)),
    (Ship(), Rules(on_flag=OnFlag(hold=False)), (Step("add_tag", "awaiting-approval"),)),
    (Ship("label_purchased"), RULES, Refusal("could not hold it: its label is already purchased")),
    (Ship("cancelled"), RULES, Refusal("could not hold it: it is cancelled in ShipStation")),
])
def test_flag_plan(shipment, rules, expected):
    assert plan.for_flag(shipment, rules, until=UNTIL) == expected


HELD = Ship("on_hold", UNTIL, ("awaiting-approval", "vip"))


@pytest.mark.parametrize(("shipment", "status", "rules", "warehouse", "expected"), [
    # Approved: routed first, restored last (once restored it may be picked).
    (HELD, "approved", RULES, "wh-2", (Step("remove_tag", "awaiting-approval"), Step("add_tag", "approved-sample"),
                                       Step("warehouse", "wh-2"), Step("restore"))),
    (Ship("pending", None, ("vip", "approved-sample"), "wh-2"), "approved", RULES, "wh-2", ()),
    (HELD, "approved", Rules(on_approve=Route(tags=(), warehouse=None)), None,
     (Step("remove_tag", "awaiting-approval"), Step("restore"))),
    # A tag both rules name stays on.
    (Ship("on_hold", UNTIL, ("awaiting-approval",)), "approved",
     Rules(on_approve=Route(tags=("awaiting-approval",), warehouse=None)), None, (Step("restore"),)),
    (Ship("label_purchased", None, ("awaiting-approval",)), "approved", RULES, "wh-2",
     Refusal("could not move it to another warehouse: its label is already purchased")),
    # Rejected: the hold stays (default) or goes.
    (HELD, "rejected", RULES, None, (Step("remove_tag", "awaiting-approval"), Step("add_tag", "rejected"))),
    (Ship("on_hold", UNTIL, ("vip", "rejected")), "rejected", RULES, None, ()),
    (HELD, "rejected", Rules(on_reject=OnReject(keep_hold=False, tags=())), None,
     (Step("remove_tag", "awaiting-approval"), Step("restore"))),
    (HELD, "expired", RULES, None, (Step("remove_tag", "awaiting-approval"), Step("add_tag", "rejected"))),
    # Not on hold (it never was, or it was restored): nothing to restore.
    (Ship("pending", None, ("approved-sample",), "wh-2"), "approved", RULES, "wh-2", ()),
])
def test_decision_plan(shipment, status, rules, warehouse, expected):
    assert plan.for_decision(shipment, rules, status=status, warehouse_id=warehouse) == expected


def test_the_hold_outlasts_the_requests_expiry():
    created = datetime(2026, 12, 8, 10, tzinfo=UTC)
    assert plan.hold_until(today=TODAY, hold_days=30, expire_after=None, created_at=created) == UNTIL
    assert plan.hold_until(today=TODAY, hold_days=30, expire_after=timedelta(days=40),
                           created_at=created) == date(2027, 1, 19)
    assert plan.hold_until(today=TODAY, hold_days=0, expire_after=None, created_at=created) == date(2026, 12, 9)


@pytest.mark.parametrize(("end", "extend"), [(None, False), (TODAY + timedelta(days=3), True),
                                             (TODAY + timedelta(days=4), False), (TODAY, True)])
def test_a_hold_near_its_end_is_extended(end, extend):
    assert plan.needs_extending(hold_end=end, today=TODAY) is extend


@pytest.mark.parametrize(("fields", "expected"), [
    ({"state": "looking", "looked_until": datetime(2026, 12, 8, 2, 40, tzinfo=UTC)},
     "ShipStation: looking for #1001 until 02:40 UTC"),
    ({"state": "held", "hold_until": UNTIL, "tags": ["awaiting-approval"]},
     "ShipStation: on hold until 2027-01-07, tagged awaiting-approval"),
    ({"state": "not_found"}, "ShipStation: #1001 not found after 30 min: hold it in ShipStation by hand"),
    ({"state": "hold_failed", "detail": "could not hold it: its label is already purchased"},
     ("ShipStation: could not hold it: its label is already purchased: hold it in ShipStation by hand if it can "
     "still ship")),
    ({"state": "routed", "tags": ["approved-sample"], "detail": "ships from Samples room"},
     "ShipStation: restored, tagged approved-sample, ships from Samples room"),
    ({"state": "kept", "hold_until": UNTIL, "tags": ["rejected"]}, "ShipStation: kept on hold until 2027-01-07, tagged rejected"),
    ({"state": "route_failed", "detail": 'no warehouse named "Moon base" in ShipStation'},
     'ShipStation: no warehouse named "Moon base" in ShipStation'),
])
def test_message_line(fields, expected):
    assert line.text(order_name="#1001", find_for_s=1800, **fields) == expected


def test_final_state():
    assert plan.final_state(status="approved", rules=RULES) == "routed"
    assert plan.final_state(status="approved", rules=Rules(on_approve=Route(tags=(), warehouse=None))) == "restored"
    assert plan.final_state(status="rejected", rules=RULES) == "kept"


def test_the_machine_adds_the_shipstation_jobs_only_for_a_policy_with_a_shipstation_block():
    from decimal import Decimal

    from bot.approvals import machine
    from bot.approvals.effects import JobKind, shipstation_key
    from bot.approvals.orders import OrderFacts
    from bot.approvals.policies import Match, load_text

    policies = load_text("""
policies:
  - id: plain
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {customer_tag: x}
  - id: shipped
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {customer_tag: staff}
    shipstation: {on_flag: hold}
""")
    order = OrderFacts(gid="gid://shopify/Order/9", legacy_id="9", name="#9", currency="USD", total_price=Decimal(1))
    shop = "s.myshopify.com"
    for pid, expected in (("plain", []), ("shipped", [JobKind.SHIPSTATION_FLAG])):
        policy = policies.get(pid)
        new = machine.flag(shop, order, Match(policy, ("matched",)))
        ours = [e for e in new.effects if e.kind.value.startswith("shipstation.")]
        assert [e.kind for e in ours] == expected
        req = machine.RequestState(id=1, shop=shop, order_gid=order.gid, status=machine.Status.PENDING, version=0,
                                   policy_id=pid, order_name="#9")
        decided = machine.outcome(req, policy, machine.Status.APPROVED, by="U0ANA")
        decision = [e for e in decided if e.kind is JobKind.SHIPSTATION_DECIDE]
        assert len(decision) == len(expected)
        for e in (*ours, *decision):  # one lane per order: the hold before the decision
            assert e.key == shipstation_key(shop, order.gid)
        if ours:
            assert ours[0].payload == {"order_gid": order.gid, "order_name": "#9", "order_legacy_id": "9"}
            assert decision[0].payload == {"status": "approved"}
