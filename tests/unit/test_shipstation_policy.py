"""The policies' `shipstation:` block (issue #20): its schema, the `on_flag: hold` shorthand, teaching messages with
their file:line:col, the one-line description `holdfast policy test` shows, and `check --online`'s findings."""

from __future__ import annotations

import pytest

from bot.approvals.policies import PolicyError, load_text
from bot.approvals.schema_parts import OnFlag, OnReject, Route, ShipStationRules
from bot.cli.backtest import Row
from bot.cli.online_shipstation import findings
from bot.cli.policy_report import row_line

BASE = """\
policies:
  - id: a
    channel: C0APPROVALS
    approvers: {{users: [U0ANA]}}
    when: {{customer_tag: staff}}
{extra}"""
FULL = """\
    shipstation:
      on_flag: {hold: true, tags: [awaiting-approval]}
      on_approve: {tags: [approved-sample], warehouse: "Samples room"}
      on_reject: {keep_hold: true, tags: [rejected]}
"""


def rules(extra: str) -> ShipStationRules | None:
    return load_text(BASE.format(extra=extra), "p.yml").policies[0].shipstation


def problems(extra: str) -> list[str]:
    with pytest.raises(PolicyError) as err:
        load_text(BASE.format(extra=extra), "p.yml")
    return err.value.problems


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("", None),  # no block: the connector does nothing for this policy
        (FULL, ShipStationRules(on_flag=OnFlag(hold=True, tags=("awaiting-approval",)),
                                on_approve=Route(tags=("approved-sample",), warehouse="Samples room"),
                                on_reject=OnReject(keep_hold=True, tags=("rejected",)))),
        ("    shipstation: {on_flag: hold}\n", ShipStationRules()),  # the shorthand is {hold: true}
        ("    shipstation: {}\n", ShipStationRules()),  # defaults: hold, keep the hold on reject
        ("    shipstation: {on_reject: {keep_hold: false}}\n",
         ShipStationRules(on_reject=OnReject(keep_hold=False))),
        ("    shipstation: {on_flag: {hold: false, tags: [review]}}\n",
         ShipStationRules(on_flag=OnFlag(hold=False, tags=("review",)))),
    ],
)
def test_the_block_reads_as_the_contract_says(extra, expected):
    assert rules(extra) == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    shipstaton: {}\n", ("p.yml:6:5: error: policy a: shipstaton: unknown key `shipstaton`; did you mean "
                               "`shipstation`?")),
        ("    shipstation: {on_flg: hold}\n", ("p.yml:6:19: error: policy a: shipstation.on_flg: unknown key "
                                             "`on_flg`; did you mean `on_flag`?")),
        ("    shipstation: {on_flag: {hold: true, tgs: [x]}}\n",
         "p.yml:6:41: error: policy a: shipstation.on_flag.tgs: unknown key `tgs`; did you mean `tags`?"),
        ("    shipstation: {on_approve: {warehose: X}}\n",
         ("p.yml:6:32: error: policy a: shipstation.on_approve.warehose: unknown key `warehose`; did you mean "
         "`warehouse`?")),
        ("    shipstation: {on_reject: {keep_hld: false}}\n",
         ("p.yml:6:31: error: policy a: shipstation.on_reject.keep_hld: unknown key `keep_hld`; did you mean "
         "`keep_hold`?")),
        ("    shipstation: {on_flag: hodl}\n",
         ("p.yml:6:28: error: policy a: shipstation.on_flag: expected `hold` or a block, got 'hodl', e.g. "
         "`on_flag: {hold: true, tags: [awaiting-approval]}`")),
        ("    shipstation: hold\n", ("p.yml:6:18: error: policy a: shipstation: Input should be a valid dictionary or "
                                  "instance of ShipStationRules, e.g. `shipstation: {on_flag: hold, on_approve: "
                                  "{tags: [approved-sample]}}`")),
        ("    shipstation: {on_approve: tag}\n", ("e.g. `on_approve: {tags: [approved-sample], warehouse: "
                                                 "\"Samples room\"}`")),
        ("    shipstation: {on_reject: keep}\n", "e.g. `on_reject: {keep_hold: true, tags: [rejected]}`"),
        ("    shipstation: {on_flag: {hold: false}}\n",
         "p.yml:6:28: error: policy a: shipstation: on_flag: neither holds nor tags the shipment"),
        ("    shipstation: {on_flag: {tags: [a]}, on_approve: {tags: [a]}}\n",
         "p.yml:6:53: error: policy a: shipstation: on_approve: tag(s) a are on_flag tags too"),
        ("    shipstation: {on_flag: {tags: [a/b]}}\n",
         "shipstation.on_flag.tags: not a ShipStation tag name (1 to 80 characters, no '/'"),
        ("    shipstation: {on_reject: {tags: [x, x]}}\n", ("shipstation.on_reject.tags: Value error, tag(s) listed "
                                                           "twice: x")),
        ("    shipstation: {on_approve: {warehouse: ''}}\n", ("shipstation.on_approve.warehouse: String should have "
                                                             "at least 1 character")),
    ],
)
def test_mistakes_are_taught_where_they_stand(extra, expected):
    found = problems(extra)
    assert any(expected.replace("Value error, ", "") in line for line in found), found


@pytest.mark.parametrize(
    ("block", "said"),
    [
        (ShipStationRules(on_flag=OnFlag(tags=("awaiting-approval",)),
                          on_approve=Route(tags=("approved-sample",), warehouse="Samples room")),
         "hold, tag awaiting-approval; on approve: tag approved-sample, ship from Samples room"),
        (ShipStationRules(), "hold; on approve: release from hold"),
        (ShipStationRules(on_reject=OnReject(keep_hold=False, tags=("rejected",))),
         "hold; on approve: release from hold; on reject: release from hold, tag rejected"),
        (ShipStationRules(on_reject=OnReject(tags=("rejected", "review"))),
         "hold; on approve: release from hold; on reject: tag rejected, review"),
        (ShipStationRules(on_flag=OnFlag(hold=False, tags=("review",)), on_approve=Route(warehouse="B")),
         "tag review; on approve: ship from B"),
    ],
)
def test_the_one_line_description(block, said):
    assert block.describe() == said


def test_the_backtest_row_says_what_shipstation_would_do():
    row = Row("#1001", "a", ("customer tag staff",), total="$10.00", customer="Ann",
              shipstation=rules(FULL).describe())
    first, second = row_line(row).split("\n")
    assert first.startswith("#1001") and "customer tag staff" in first
    assert second.strip() == ("ShipStation: hold, tag awaiting-approval; on approve: tag approved-sample, ship from "
                              "Samples room; on reject: tag rejected")
    assert "\n" not in row_line(Row("#1002", None)) and "\n" not in row_line(Row("#1003", "a"))
    assert row.as_json()["shipstation"] == rules(FULL).describe()


@pytest.mark.parametrize(
    ("warehouses", "tags", "problem", "warned"),
    [
        (["Main", "Samples room"], ["awaiting-approval", "approved-sample", "rejected"], [], []),
        (["main", "SAMPLES ROOM"], ["awaiting-approval", "approved-sample", "rejected"], [], []),  # any case
        (["Main"], ["awaiting-approval", "approved-sample", "rejected"],
         [('p.yml:8:56: policy a: ShipStation of demo.myshopify.com has no warehouse named "Samples room" (it has '
          '"Main"). Fix:')], []),
        (["Samples room"], ["awaiting-approval"], [],
         ['p.yml:8:27: warning: policy a: ShipStation of demo.myshopify.com has no tag "approved-sample" yet',
          'p.yml:9:43: warning: policy a: ShipStation of demo.myshopify.com has no tag "rejected" yet']),
    ],
)
def test_online_findings_name_unknown_warehouses_and_tags_where_they_are_written(warehouses, tags, problem, warned):
    policies = load_text(BASE.format(extra=FULL), "p.yml")
    found = findings(policies, shop="demo.myshopify.com", warehouses=warehouses, tags=tags)
    assert len(found.problems) == len(problem) and all(p.startswith(w) for p, w in zip(found.problems, problem))
    assert len(found.warnings) == len(warned) and all(p.startswith(w) for p, w in zip(found.warnings, warned))
