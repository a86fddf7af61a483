import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot.approvals.conditions import evaluate, parse
from bot.approvals.orders import LineItem, OrderFacts
from bot.approvals.policies import PolicyError, load_text, match
from bot.policy_file import load_file

ROOT = Path(__file__).resolve().parents[2]


def order(**over):
    base = dict(gid="gid://shopify/Order/1", legacy_id="1", name="#1", currency="USD", total_price=Decimal("120"),
                line_items_price=Decimal("120"), total_discounts=Decimal("0"), customer_tags=("Staff",),
                order_tags=(), discount_codes=("SUMMER10",), source_name="web",
                line_items=(LineItem("Mug", 2, Decimal("60"), sku="MUG-1", vendor="Acme"),))
    base.update(over)
    return OrderFacts(**base)


@pytest.mark.parametrize(
    ("cond", "over", "matched", "reason"),
    [
        ({"total_price": {"gte": 100}}, {}, True, "total price 120 USD ≥ 100 USD"),
        ({"total_price": {"gte": 1000}}, {}, False, None),
        ({"total_price": {"lt": 1000}}, {}, True, "total price 120 USD < 1,000 USD"),
        ({"customer_tag": "staff"}, {}, True, "customer tag `Staff`"),  # case-insensitive, like Shopify
        ({"order_tag": "staff"}, {}, False, None),
        ({"discount_code": {"glob": "summer*"}}, {}, True, "discount code `SUMMER10`"),
        ({"discount_percent": {"gte": 100}}, {"total_discounts": Decimal("120")}, True, "discount percent 100% ≥ 100%"),
        ({"discount_percent": {"gte": 100}}, {"line_items_price": None, "line_items": ()}, False, None),
        ({"source_name": {"in": ["pos", "web"]}}, {}, True, "source name `web`"),
        ({"sku": "MUG-1"}, {}, True, "sku `MUG-1`"),
        ({"all": [{"customer_tag": "staff"}, {"total_price": {"gt": 100}}]}, {}, True, "customer tag `Staff`"),
        ({"all": [{"customer_tag": "staff"}, {"total_price": {"gt": 500}}]}, {}, False, None),
        ({"any": [{"order_tag": "x"}, {"vendor": "acme"}]}, {}, True, "vendor `Acme`"),
        ({"not": {"order_tag": "x"}}, {}, True, "not order tag `x`"),
        ({"not": {"customer_tag": "staff"}}, {}, False, None),
    ],
)
def test_conditions(cond, over, matched, reason):
    outcome = evaluate(parse(cond), order(**over))
    assert outcome.matched is matched
    if reason:
        assert reason in outcome.reasons


def test_missing_fact_is_false_and_reported():
    outcome = evaluate(parse({"customer_orders_count": {"lte": 1}}), order())
    assert outcome.matched is False and outcome.missing == ("customer_orders_count",)


POLICY = """
policies:
  - id: {id}
    priority: {prio}
    channel: C0APPROVALS
    approvers: {{users: [U0ANA]}}
    when: {when}
"""


def test_first_policy_by_priority_wins():
    text = "policies:" + "".join(
        POLICY.split("policies:")[1].format(id=i, prio=p, when=w)
        for i, p, w in [("big", 20, "{total_price: {gte: 100}}"), ("staff", 10, "{customer_tag: staff}")]
    )
    ps = load_text(text)
    assert [p.id for p in ps.policies] == ["staff", "big"]
    assert match(ps, order()).policy.id == "staff"
    assert match(ps, order(customer_tags=())).policy.id == "big"
    assert match(ps, order(customer_tags=(), total_price=Decimal("5"))) is None


def test_disabled_policy_never_matches():
    ps = load_text(POLICY.format(id="a", prio=1, when="{customer_tag: staff}") + "    enabled: false\n")
    assert match(ps, order()) is None


@pytest.mark.parametrize(
    ("when", "extra", "expected"),
    [
        ("{total_price: {gtx: 1}}", "", "policy a: when.total_price.gtx: unknown comparison"),
        ("{colour: red}", "", "policy a: when.colour: unknown fact"),
        ("{total_price: {gte: lots}}", "", "policy a: when.total_price.gte: expected a number"),
        ("{any: []}", "", "policy a: when.any: expected a non-empty list"),
        ("{customer_tag: staff}", "    colour: red\n", "policy a: colour: unknown key `colour`; expected one of id,"),
        ("{customer_tag: staff}", "    priority: high\n", "policy a: priority: Input should be a valid integer"),
    ],
)
def test_invalid_policies_name_file_policy_and_key(when, extra, expected):
    with pytest.raises(PolicyError) as err:
        load_text(POLICY.format(id="a", prio=1, when=when) + extra, "p.yml")
    assert any(re.match(r"p\.yml:\d+:\d+: error: ", line) and expected in line for line in err.value.problems), \
        err.value.problems


def test_bad_ids_and_duplicates():
    with pytest.raises(PolicyError) as err:
        load_text(POLICY.format(id="a", prio=1, when="{customer_tag: x}").replace("C0APPROVALS", "approvals")
                  .replace("U0ANA", "ana"), "p.yml")
    text = str(err.value)
    assert "policy a: channel: not a Slack channel id" in text and "approvers.users: not Slack user ids" in text
    dup = POLICY.format(id="a", prio=1, when="{customer_tag: x}") + POLICY.split("policies:")[1].format(
        id="a", prio=2, when="{customer_tag: y}")
    with pytest.raises(PolicyError, match="policy a: id: used more than once"):
        load_text(dup)


def test_not_yaml_and_hash():
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_text("policies: [", "x.yml")
    a = load_text(POLICY.format(id="a", prio=1, when="{customer_tag: x}"))
    b = load_text(POLICY.format(id="a", prio=1, when="{customer_tag: y}"))
    assert a.file_hash != b.file_hash and len(a.file_hash) == 64


def test_example_policy_file_is_valid():
    ps = load_file(ROOT / "holdfast.example.yml")
    assert {p.id for p in ps.policies} >= {"staff-orders", "influencer-samples", "high-value"}
