import re
from datetime import date, timedelta

import pytest

from bot.approvals.fields import validate
from bot.approvals.policies import PolicyError, load_text
from bot.approvals.schema import FieldSpec, parse_duration

TODAY = date(2026, 11, 22)
SPECS = [
    FieldSpec(id="cc", label="Cost centre", type="select", options=["CC-1", "CC-2"]),
    FieldSpec(id="n", label="Budget", type="number", min=0, max=100),
    FieldSpec(id="d", label="Ship by", type="date", required=False),
    FieldSpec(id="t", label="Reason", type="multiline", max_length=10),
    FieldSpec(id="u", label="Owner", type="user", required=False),
]


def state(**values):
    out = {}
    for k, v in values.items():
        if k == "cc":
            out["field-cc"] = {"value": {"type": "static_select", "selected_option": {"value": v}}}
        elif k == "d":
            out["field-d"] = {"value": {"type": "datepicker", "selected_date": v}}
        elif k == "u":
            out["field-u"] = {"value": {"type": "users_select", "selected_user": v}}
        else:
            out[f"field-{k}"] = {"value": {"type": "plain_text_input", "value": v}}
    return out


@pytest.mark.parametrize(
    ("values", "clean", "errors"),
    [
        (dict(cc="CC-1", n="12.5", t="ok"), {"cc": "CC-1", "n": "12.5", "t": "ok"}, {}),
        (dict(cc="CC-1", n="12", t="ok", d="2026-12-01", u="U1"), {"d": "2026-12-01", "u": "U1"}, {}),
        (dict(n="12", t="ok"), {}, {"field-cc": "This field is required."}),
        (dict(cc="CC-9", n="12", t="ok"), {}, {"field-cc": "Pick one of the options."}),
        (dict(cc="CC-1", n="lots", t="ok"), {}, {"field-n": "Enter a number, like 42 or 12.50."}),
        (dict(cc="CC-1", n="-1", t="ok"), {}, {"field-n": "Must be at least 0."}),
        (dict(cc="CC-1", n="101", t="ok"), {}, {"field-n": "Must be at most 100."}),
        (dict(cc="CC-1", n="1", t="   "), {}, {"field-t": "This field is required."}),
        (dict(cc="CC-1", n="1", t="x" * 11), {}, {"field-t": "At most 10 characters, please (11 now)."}),
        (dict(cc="CC-1", n="1", t="ok", d="soon"), {}, {"field-d": "Pick a date."}),
    ],
)
def test_validate(values, clean, errors):
    got, problems = validate(SPECS, state(**values), today=TODAY)
    assert problems == errors
    for k, v in clean.items():
        assert got[k] == v


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("1d12h", timedelta(days=1, hours=12)),
     ("1w", timedelta(weeks=1)), ("90 s", timedelta(seconds=90))],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "soon", "2x", "0h", "h2", "1.5h"])
def test_bad_durations(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


BASE = """
policies:
  - id: p
    channel: C0APPROVALS
    approvers: {approvers}
    when: {{customer_tag: staff}}
{extra}"""


@pytest.mark.parametrize(
    ("approvers", "extra", "expected"),
    [
        ("{users: [U0A, U0B], required: 3}", "", "approvers: required: 3 approvals cannot come from 2 listed user(s)"),
        ("{users: []}", "", "approvers: at least one approver (users or groups) is required"),
        ("{groups: [finance]}", "", "approvers.groups: not Slack user group ids (S…): finance"),
        ("{users: [U0A]}", "    timers: {remind_after: soon}\n", "timers.remind_after: expected a duration"),
        ("{users: [U0A]}", "    timers: {escalate_after: 2h}\n", "timers: escalate_to: escalate_after needs somewhere"),
        ("{users: [U0A]}", "    timers: {remind_after: 3d, expire_after: 1d}\n",
         "timers: remind_after (3 days, 0:00:00) must come before expire_after (1 day, 0:00:00)"),
        ("{users: [U0A]}", "    fields: {approve: [{id: cc, label: CC, type: select}]}\n",
         "fields.approve[0]: options: a select field needs at least one option"),
        ("{users: [U0A]}", "    fields: {approve: [{id: cc, label: CC, type: colour}]}\n",
         "fields.approve[0].type: Input should be 'text', 'multiline', 'select', 'date', 'number' or 'user'"),
        ("{users: [U0A]}", "    on_reject: shred\n", "on_reject: Input should be 'keep_hold', 'cancel' or 'release'"),
        ("{users: [U0A]}", "    cancel: {reason: BORED}\n", "cancel.reason: Input should be"),
    ],
)
def test_policy_mistakes_are_reported_exactly(approvers, extra, expected):
    with pytest.raises(PolicyError) as err:
        load_text(BASE.format(approvers=approvers, extra=extra), "p.yml")
    # Each line leads with where it is (file:line:col), as an editor's quickfix list reads it.
    assert any(re.match(r"p\.yml:\d+:\d+: error: policy p: ", line) and expected in line
               for line in err.value.problems), err.value.problems


def test_reject_asks_for_a_reason_by_default_and_roles_parse():
    ps = load_text("roles: {managers: {users: [U0BOSS], groups: [S0MGMT]}}\n" + BASE.format(approvers="{users: [U0A]}", extra=""))
    assert [f.id for f in ps.policies[0].fields.reject] == ["reason"]
    assert ps.roles.managers.users == ["U0BOSS"] and ps.roles.managers.groups == ["S0MGMT"]
