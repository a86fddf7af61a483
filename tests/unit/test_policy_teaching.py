"""`holdfast check` teaches: a near-miss gets "did you mean", a missing block an example, a likely slip a warning."""

from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.approvals.policies import PolicyError, load_text
from bot.approvals.schema import PolicyFile
from bot.approvals.teach import EXAMPLES, HIDDEN, _unwrap, model_at
from bot.policy_file import load_file

ROOT = Path(__file__).resolve().parents[2]
BASE = """\
policies:
  - id: a
    channel: C0APPROVALS
    approvers: {{users: [U0ANA]}}
    when: {when}
{extra}"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as err:
        load_text(text, "p.yml")
    return err.value.problems


def policy(when: str = "{customer_tag: staff}", extra: str = "") -> str:
    return BASE.format(when=when, extra=extra)


# One row per closed set of names an operator types.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (policy().replace("policies:", "polices:"), "polices: unknown key `polices`; did you mean `policies`?"),
        (policy().replace("channel:", "chanel:"), "policy a: chanel: unknown key `chanel`; did you mean `channel`?"),
        (policy().replace("{users:", "{user:"), "approvers.user: unknown key `user`; did you mean `users`?"),
        (policy(extra="    timers: {remind_afer: 2h}\n"), ("timers.remind_afer: unknown key `remind_afer`; "
                                                        "did you mean `remind_after`?")),
        (policy(extra="    timers: {escalate_after: 1h, escalate_to: {chanel: C0X}}\n"),
         "timers.escalate_to.chanel: unknown key `chanel`; did you mean `channel`?"),
        (policy(extra="    tags: {pendng: x}\n"), "tags.pendng: unknown key `pendng`; did you mean `pending`?"),
        (policy(extra="    cancel: {restok: true}\n"), "cancel.restok: unknown key `restok`; did you mean `restock`?"),
        (policy(extra="    fields: {aprove: []}\n"), "fields.aprove: unknown key `aprove`; did you mean `approve`?"),
        (policy(extra="    fields: {approve: [{id: n, lable: Note}]}\n"),
         "fields.approve[0].lable: unknown key `lable`; did you mean `label`?"),
        (policy(extra="    metafield: {namespce: x}\n"), ("metafield.namespce: unknown key `namespce`; "
                                                          "did you mean `namespace`?")),
        (policy(extra="    internal: {pricng: free}\n"), "internal.pricng: unknown key `pricng`; did you mean `pricing`?"),
        (policy(extra="    internal: {addresses: {HQ: {citty: X}}}\n"),
         "internal.addresses.HQ.citty: unknown key `citty`; did you mean `city`?"),
        ("roles: {managrs: {}}\n" + policy(), "roles.managrs: unknown key `managrs`; did you mean `managers`?"),
        # facts, anywhere in a condition tree
        (policy("{customer_tagg: staff}"), ("when.customer_tagg: unknown fact `customer_tagg`; "
                                           "did you mean `customer_tag`?")),
        (policy("{any: [{sku: x}, {not: {shiping_country: US}}]}"),
         "when.any[1].not.shiping_country: unknown fact `shiping_country`; did you mean `shipping_country`?"),
        (policy("{al: [{sku: x}]}"), "when.al: unknown fact `al`; did you mean `all`?"),
        # comparisons: a number's and a text's
        (policy("{total_price: {gtee: 5}}"), "when.total_price.gtee: unknown comparison `gtee`; did you mean `gte`?"),
        (policy("{sku: {glb: 'X*'}}"), "when.sku.glb: unknown comparison `glb`; did you mean `glob`?"),
        (policy("{note_attribute: {order_type: {inn: [a]}}}"),
         "when.note_attribute.order_type.inn: unknown comparison `inn`; did you mean `in`?"),
        # actions and the other closed choices
        (policy(extra="    on_reject: cancell\n"), ("on_reject: Input should be 'keep_hold', 'cancel' or 'release'; "
                                                    "did you mean `cancel`?")),
        (policy(extra="    timers: {on_expire: rejct}\n"), ("timers.on_expire: Input should be 'keep_hold', 'reject' or "
                                                            "'approve'; did you mean `reject`?")),
        (policy(extra="    cancel: {reason: FRAUDD}\n"), "did you mean `FRAUD`?"),
        (policy(extra="    fields: {approve: [{id: n, label: N, type: multilne}]}\n"), "did you mean `multiline`?"),
        (policy(extra="    internal: {payment: payed}\n"), ("internal.payment: Input should be 'pending' or 'paid'; "
                                                            "did you mean `paid`?")),
        (policy(extra="    internal: {on_reject: delet}\n"), "did you mean `delete`?"),
        # nothing close: the whole list instead of a guess
        (policy(extra="    colour: red\n"), "colour: unknown key `colour`; expected one of id, name, description,"),
        (policy("{zzz: 1}"), "when.zzz: unknown fact `zzz`; expected one of all, any, not, b2b,"),
        (policy("{total_price: {about: 5}}"), ("when.total_price.about: unknown comparison `about`; "
                                              "expected one of gte, gt, lte, lt, eq")),
    ],
)
def test_near_misses_get_a_suggestion(text, expected):
    found = problems(text)
    assert any(expected in line for line in found), found
    if "did you mean" not in expected:
        assert not any("did you mean" in line for line in found), found


def test_a_hidden_field_is_never_suggested():
    assert not any("`condition`" in line for line in problems(policy(extra="    conditon: x\n")))


# One row per block or key that must be there.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\n", ("policies: Field required; add it, e.g. `policies: [{id: staff-orders, channel: C…, "
                         "approvers: {users: [U…]}, when: {customer_tag: staff}}]`")),
        (policy().replace("  - id: a\n    channel", "  - channel"), "id: Field required; add it, e.g. `id: staff-orders`"),
        (policy().replace("    channel: C0APPROVALS\n", ""), "channel: Field required; add it, e.g. `channel: C…`"),
        (policy().replace("    approvers: {users: [U0ANA]}\n", ""),
         "approvers: Field required; add it, e.g. `approvers: {users: [U…]}`"),
        (policy().replace("{users: [U0ANA]}", "{users: []}"),
         "approvers: at least one approver (users or groups) is required, e.g. `approvers: {users: [U…]}`"),
        (policy().replace("{users: [U0ANA]}", "U0ANA"), ("approvers: Input should be a valid dictionary or instance of "
                                                         "Approvers, e.g. `approvers: {users: [U…]}`")),
        (policy().replace("    when: {customer_tag: staff}\n", ""), ("when: a policy needs a condition (or `internal:` "
                                                                    "for /order-request policies), e.g. `when: "
                                                                    "{total_price: {gte: 1000}}`")),
        (policy("{customer_tag: staff, sku: x}"), ("when: expected a mapping with exactly one key (all, any, not or a "
                                                  "fact); several conditions go in a list, e.g. `all: [")),
        (policy(extra="    timers: {escalate_after: 2h}\n"), "e.g. `escalate_to: {channel: C…}`"),
        (policy(extra="    fields: {approve: [{label: Note}]}\n"), ("fields.approve[0].id: Field required; add it, "
                                                                    "e.g. `id: cost_centre`")),
        (policy(extra="    fields: {approve: [{id: n}]}\n"), "label: Field required; add it, e.g. `label: Cost centre`"),
        (policy(extra="    fields: {approve: [{id: n, label: N, type: select}]}\n"),
         'options: a select field needs at least one option, e.g. `options: ["yes", "no"]`'),
        (policy(extra="    internal: {addresses: {HQ: {company: X}}}\n"), "e.g. `name: Ops Team`"),
        (policy(extra="    internal: {addresses: {HQ: {company: X}}}\n"), "e.g. `address1: 1 Harbour Street`"),
        (policy(extra="    internal: {addresses: {HQ: {company: X}}}\n"), "e.g. `city: Portland`"),
        (policy(extra="    internal: {addresses: {HQ: {company: X}}}\n"), "e.g. `country_code: US`"),
    ],
)
def test_a_missing_block_shows_a_one_line_example(text, expected):
    found = problems(text)
    assert any(expected in line for line in found), found


def _models(model: type[BaseModel], seen: set) -> None:
    if model in seen:
        return
    seen.add(model)
    for spec in model.model_fields.values():
        tp = _unwrap(spec.annotation)
        for inner in (tp, *getattr(tp, "__args__", ())):
            inner = _unwrap(inner)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                _models(inner, seen)


def test_every_required_key_of_every_block_has_an_example():
    seen: set = set()
    _models(PolicyFile, seen)
    required = {(m.__name__, name) for m in seen for name, spec in m.model_fields.items()
                if spec.is_required() and name not in HIDDEN}
    assert required and required <= set(EXAMPLES), required - set(EXAMPLES)
    assert model_at(("policies", 0, "internal", "addresses", "HQ")).__name__ == "SavedAddress"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{total_price: 5000}", [("p.yml:5:25: warning: policy a: when.total_price: `total_price: 5000` matches only "
                                 "an amount of exactly 5000; did you mean `{gte: 5000}`? (write `{eq: 5000}` if "
                                 "exactly is meant)")]),
        ("{any: [{sku: x}, {not: {subtotal_price: 49.5}}]}", [("p.yml:5:51: warning: policy a: "
                                                              "when.any[1].not.subtotal_price: `subtotal_price: 49.5`")]),
        ("{all: [{total_discounts: '0'}, {total_price: 10}]}", ["p.yml:5:36: warning: policy a: when.all[0]",
                                                                "p.yml:5:56: warning: policy a: when.all[1]"]),
        ("{total_price: {gte: 5000}}", []),
        ("{total_price: {eq: 5000}}", []),  # exactly, said so
        ("{total_price: {gte: 5000, currency: USD}}", []),
        ("{discount_percent: 100}", []),  # not money: a percentage of exactly 100 is a thing
        ("{total_quantity: 3}", []),
        ("{customer_tag: staff}", []),
    ],
)
def test_money_compared_by_bare_equality_is_warned_not_refused(when, expected):
    found = load_text(policy(when), "p.yml").warnings
    assert len(found) == len(expected) and all(w.startswith(e) for w, e in zip(found, expected, strict=True)), found


def test_the_example_file_is_valid_without_warnings():
    assert load_file(ROOT / "holdfast.example.yml").warnings == ()
