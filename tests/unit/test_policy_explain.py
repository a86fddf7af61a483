"""`holdfast policy test`'s pure parts: which conditions decided, counted words, money and rows, the file reader."""

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot.approvals.conditions import parse
from bot.approvals.explain import deciding_missing, decisive, explain, verdicts
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import load_text, match
from bot.cli.backtest import Row, Summary, files_note
from bot.cli.orders_file import OrdersFileError, read_entries
from bot.cli.policy_report import explain_lines, matches_order, row_line, summary_line
from bot.cli.words import plural
from bot.policy_file import load_file

EXAMPLES = load_file(Path(__file__).resolve().parents[2] / "holdfast.example.yml")


def order(**kw) -> OrderFacts:
    base = {"gid": "gid://shopify/Order/7", "legacy_id": "7", "name": "#1007", "currency": "USD",
            "total_price": Decimal("120.00")}
    return OrderFacts(**{**base, **kw})


@pytest.mark.parametrize(("n", "word", "many", "expected"), [
    (0, "order", None, "0 orders"), (1, "order", None, "1 order"), (2, "order", None, "2 orders"),
    (1, "policy", "policies", "1 policy"), (3, "policy", "policies", "3 policies"), (1, "line", None, "1 line"),
    (12_000, "line", None, "12,000 lines"),
])
def test_plural(n, word, many, expected):
    assert plural(n, word, many) == expected


# (condition, order, matched, the missing facts that decided, the facts whose leaves decided)
DECIDED = [
    # an `any` made true by one branch: another branch's missing fact did not decide
    ({"any": [{"customer_email_domain": "x.example"}, {"order_tag": "staff"}]}, order(order_tags=("staff",)),
     True, (), {"order_tag"}),
    # an `any` that failed: every branch decided, so each missing one is said
    ({"any": [{"customer_email_domain": "x.example"}, {"order_tag": "staff"}]}, order(), False,
     ("customer_email_domain",), {"customer_email_domain", "order_tag"}),
    # an `all` ended by its first false part: a later missing fact did not decide
    ({"all": [{"total_price": {"gte": 500}}, {"payment_terms": "Net 30"}]}, order(), False, (), {"total_price"}),
    ({"all": [{"payment_terms": "Net 30"}, {"total_price": {"gte": 500}}]}, order(), False, ("payment_terms",),
     {"payment_terms"}),
    # a `not` of a missing fact is true *because* the fact is missing: that decided
    ({"all": [{"not": {"shipping_country": "US"}}, {"total_price": {"gte": 100}}]}, order(), True,
     ("shipping_country",), {"shipping_country", "total_price"}),
    # a money condition in another currency is reported as such, and decides
    ({"total_price": {"gte": 100, "currency": "EUR"}}, order(), False, ("total_price in EUR (order is in USD)",),
     {"total_price"}),
]


def _decided_facts(step) -> set[str]:
    out = {step.node.fact} if step.node.op == "fact" and step.decided else set()
    for child in step.children:
        out |= _decided_facts(child)
    return out


@pytest.mark.parametrize(("spec", "facts", "matched", "missing", "decided"), DECIDED)
def test_explain_marks_what_decided(spec, facts, matched, missing, decided):
    from bot.approvals.conditions import evaluate

    step = explain(parse(spec), facts)
    assert step.matched is matched is evaluate(parse(spec), facts).matched  # the same verdict as the matcher
    assert deciding_missing(step) == missing
    assert _decided_facts(step) == decided


def test_a_flagged_orders_missing_facts_are_only_those_that_decided():
    facts = order(order_tags=("staff",))
    hit = match(EXAMPLES, facts)
    assert hit.policy.id == "staff-orders" and "customer_email_domain" in hit.missing  # the matcher says all
    assert decisive(hit, facts).missing == ()


def test_verdicts_name_the_first_match_and_skip_internal_policies():
    found = verdicts(EXAMPLES, order(order_tags=("staff",), total_price=Decimal(9000), shipping_country="US"))
    assert [v.policy.id for v in found if v.flags] == ["staff-orders"]
    assert {v.policy.id for v in found if v.step and v.step.matched} == {"staff-orders", "high-value"}
    assert "internal-orders" not in {v.policy.id for v in found}
    text = "\n".join(explain_lines(order(order_tags=("staff",), total_price=Decimal(9000)), found))
    assert "staff-orders (priority 10): matches: flags this order" in text
    assert "high-value (priority 30): matches, but staff-orders comes first" in text
    assert "total price ≥ 5,000 USD — total price: 9,000.00 USD  ← decided" in text


@pytest.mark.parametrize(("row", "expected"), [
    (Row("#1001", "high-value", ("total price 8,000 USD ≥ 5,000 USD",), total="8,000.00 USD",
         customer="Ana Lopez <ana@x.example>"),
     "#1001          8,000.00 USD  Ana Lopez <ana@x.example>    high-value               total price 8,000 USD ≥ 5,000 USD"),
    (Row("#1002", None, total="12,000 JPY"), "#1002            12,000 JPY  -                            -"),
    (Row("#1003", "p", ("r",), ("sku",), total="1.250 KWD", customer="bo@x.example"),
     "#1003             1.250 KWD  bo@x.example                 p                        r  (missing: sku)"),
])
def test_row_line_shows_total_customer_and_reason(row, expected):
    assert row_line(row) == expected


@pytest.mark.parametrize(("orders", "flagged", "skipped", "word", "expected"), [
    (1, {}, 0, "line", "1 order: 1 not flagged"),
    (2, {"p": 1}, 1, "line", "2 orders: 1 flagged by p, 1 not flagged; 1 line skipped (said above)"),
    (3, {"p": 2, "q": 1}, 2, "order", ("3 orders: 2 flagged by p, 1 flagged by q, 0 not flagged; "
                                      "2 orders skipped (said above)")),
])
def test_summary_line_counts_with_plurals(orders, flagged, skipped, word, expected):
    summary = Summary(orders=orders, skipped=skipped)
    summary.flagged.update(flagged)
    assert summary_line(summary, skipped_word=word) == expected


@pytest.mark.parametrize(("wanted", "hit"), [
    ("#1007", True), ("1007", True), ("7", True), ("gid://shopify/Order/7", True), ("#7", False), ("1008", False),
])
def test_explain_finds_an_order_by_name_or_id(wanted, hit):
    assert matches_order(order(), wanted) is hit


def test_files_note_names_each_policy_with_its_facts():
    note = files_note(EXAMPLES)
    assert "high-risk (risk level, risk recommendation)" in note and "staff-orders (customer tags)" in note
    assert "for 4 policies:" in note
    one = load_text("policies: [{id: x, channel: C0APPROVALS, approvers: {users: [U0ANA]}, "
                    "when: {product_tag: gift}}]")
    assert "for 1 policy: x (product tags)." in files_note(one)


PRETTY = json.dumps({"id": 1, "tags": "a"}, indent=2)
# (file text, [(line, value or "error: <words>")])
ENTRIES = [
    ('{"id": 1}\n{"id": 2}\n', [(1, {"id": 1}), (2, {"id": 2})]),
    ('{"id": 1}\n\nnope\n{"id": 3}\n', [(1, {"id": 1}), (3, "error: Expecting value"), (4, {"id": 3})]),
    # a line cut short, then whole ones: said, and the next line still read
    ('{"id": 1,\n{"id": 2}\n', [(1, "error: ends before its value"), (2, {"id": 2})]),
    ('{"id": 1}\n{"id": 2,\n{"id": 3}\n', [(1, {"id": 1}), (2, "error: ends before its value"), (3, {"id": 3})]),
    (PRETTY + "\n", [(1, {"id": 1, "tags": "a"})]),  # one pretty-printed order
    (PRETTY + "\n" + PRETTY, [(1, {"id": 1, "tags": "a"}), (5, {"id": 1, "tags": "a"})]),
    ('[\n  {"id": 1},\n\n  {"id": 2}\n]\n', [(2, {"id": 1}), (4, {"id": 2})]),
    ('{"id": 1}\n{"id": 2', [(1, {"id": 1}), (2, "error: ends before its value")]),
]


@pytest.mark.parametrize(("text", "expected"), ENTRIES)
def test_read_entries_numbers_lines_and_skips_bad_ones(text, expected):
    got = list(read_entries(io.StringIO(text)))
    assert [e.line for e in got] == [line for line, _ in expected]
    for entry, (_, want) in zip(got, expected, strict=True):
        if isinstance(want, str):
            assert entry.error and want.removeprefix("error: ") in entry.error
        else:
            assert entry.error is None and entry.value == want


@pytest.mark.parametrize(("text", "line", "words"), [
    ('[\n  {"id": 1},\n  {"id": 2\n  {"id": 3}\n]', 4, "not valid JSON"),  # inside an array: nothing after it
    ('[\n  {"id": 1}\n', 3, "not closed"),
    ('{\n  "id": 1,\n  "tags": nope\n}\n', 3, "not valid JSON"),  # inside a pretty-printed order
])
def test_a_broken_array_or_pretty_order_stops_with_its_line(text, line, words):
    with pytest.raises(OrdersFileError, match=words) as exc:
        list(read_entries(io.StringIO(text)))
    assert exc.value.line == line
