"""Every policy problem points into the file: `file:line:col`, counted from 1, at the key or value at fault."""

import pytest

from bot.approvals.marks import Pos, compose, split_path
from bot.approvals.policies import PolicyError, load_text
from bot.cli.online import located
from bot.slack_preflight import Problem

TEXT = """\
version: 1
policies:
  - id: a
    channel: C0X
    approvers: {users: [U0ANA, U0BEN]}
    when:
      all:
        - total_price: {gte: 5}
"""


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        (("version",), True, Pos(1, 1)),
        (("version",), False, Pos(1, 10)),
        (("policies",), False, Pos(3, 3)),  # the block sequence starts at its first dash
        (("policies", 0), False, Pos(3, 5)),
        (("policies", 0, "id"), False, Pos(3, 9)),
        (("policies", 0, "approvers"), True, Pos(5, 5)),
        (("policies", 0, "approvers"), False, Pos(5, 16)),
        (("policies", 0, "approvers", "users", 1), False, Pos(5, 32)),
        (("policies", 0, "when", "all", 0, "total_price"), True, Pos(8, 11)),
        (("policies", 0, "when", "all", 0, "total_price", "gte"), True, Pos(8, 25)),
        (("policies", 0, "when", "all", 0, "total_price", "gte"), False, Pos(8, 30)),
        # Not in the file: its nearest ancestor that is (a missing key is reported at its block).
        (("policies", 0, "timers", "remind_after"), False, Pos(3, 5)),
        (("policies", 7), False, Pos(3, 3)),
        (("nowhere",), True, Pos(1, 1)),
    ],
)
def test_marks_are_exact(path, key, expected):
    data, marks = compose(TEXT)
    assert data["policies"][0]["approvers"]["users"] == ["U0ANA", "U0BEN"]  # the same data safe_load gives
    assert marks.at(path, key=key) == expected


def test_marks_survive_anchors_aliases_and_a_recursive_alias():
    _, marks = compose("base: &b {users: [U0ANA]}\ncopy: *b\nloop: &l [*l]\n")
    assert marks.at(("copy", "users", 0)) == Pos(1, 19)  # an alias points where its anchor's value is written
    assert marks.at(("loop", 0)) == Pos(3, 7)


def test_dotted_condition_paths_split_like_error_locations():
    assert split_path("when.any[0].total_price.gte") == ("when", "any", 0, "total_price", "gte")
    assert split_path("when.all[2][1]") == ("when", "all", 2, 1)


POLICY = """\
policies:
  - id: a
    channel: C0APPROVALS
    approvers:
      users: [U0ANA]
    when:
      any:
        - customer_tag: staff
        - total_price: {{gte: lots}}
{extra}"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A wrong value: its value. A wrong key: the key.
        (POLICY.format(extra="").replace("C0APPROVALS", "approvals"),
         "p.yml:3:14: error: policy a: channel: not a Slack channel id"),
        (POLICY.format(extra="    colour: red\n"), "p.yml:10:5: error: policy a: colour: unknown key `colour`"),
        (POLICY.format(extra=""), "p.yml:9:30: error: policy a: when.any[1].total_price.gte: expected a number"),
        (POLICY.format(extra="").replace("customer_tag", "colour"),
         "p.yml:8:11: error: policy a: when.any[0].colour: unknown fact `colour`"),
        (POLICY.format(extra="").replace("U0ANA", "ana"),
         "p.yml:5:14: error: policy a: approvers.users: not Slack user ids (U… or W…): ana"),
        # A missing key: the block it belongs in.
        (POLICY.format(extra="").replace("    channel: C0APPROVALS\n", ""),
         "p.yml:2:5: error: policy a: channel: Field required"),
        # A block's own check that names one of its keys: that key.
        (POLICY.format(extra="    timers: {remind_after: 3d, expire_after: 1d}\n"),
         "p.yml:10:28: error: policy a: timers: remind_after (3 days, 0:00:00) must come before expire_after"),
        # Outside the policies: no policy id, the key path from the root.
        ("roles: {managers: {userz: [U0A]}}\npolicies: []\n",
         "p.yml:1:20: error: roles.managers.userz: unknown key `userz`; did you mean `users`?"),
        (("policies: [{id: a, channel: C0X, approvers: {users: [U0A]}, when: {sku: x}},\n"
         "           {id: a, channel: C0X, approvers: {users: [U0A]}, when: {sku: y}}]\n"),
         "p.yml:2:17: error: policy a: id: used more than once (first at line 1); give each policy its own id"),
        ("policies:\n  - id: [a\n", "p.yml:3:1: error: not valid YAML:"),
        ("- just a list\n", "p.yml:1:1: error: expected a mapping with a `policies` list, e.g. `policies: [{id:"),
    ],
)
def test_each_problem_leads_with_file_line_and_column(text, expected):
    with pytest.raises(PolicyError) as err:
        load_text(text, "p.yml")
    assert any(line.startswith(expected) for line in err.value.problems), err.value.problems


def test_problems_are_listed_top_of_the_file_first():
    text = "policies:\n  - id: a\n    chanel: C0X\n    approvers: {users: [U0A]}\n    when: {sku: x}\nrolez: 1\n"
    with pytest.raises(PolicyError) as err:
        load_text(text, "p.yml")
    assert [line.split(": error")[0] for line in err.value.problems] == ["p.yml:2:5", "p.yml:3:5", "p.yml:6:1"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("channel C0APPROVALS (policy a)", "p.yml:3:14: channel C0APPROVALS (policy a): x. Fix: y"),
        ("user U0ANA (policy a approvers)", "p.yml:5:15: user U0ANA (policy a approvers): x. Fix: y"),
        ("user group S0FIN (roles.managers)", "p.yml:11:23: user group S0FIN (roles.managers): x. Fix: y"),
        ("user U0NOWHERE (policy a approvers)", "user U0NOWHERE (policy a approvers): x. Fix: y"),
    ],
)
def test_slack_problems_point_at_the_id_in_the_file(where, expected):
    policies = load_text(POLICY.format(extra="").replace("{gte: lots}", "{gte: 5}") +
                         "roles:\n  managers: {groups: [S0FIN]}\n", "p.yml")
    assert located(policies, Problem(where, "x", "y")) == expected
