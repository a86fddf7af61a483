import io
import json
import resource
from pathlib import Path

import pytest

from bot.approvals.policies import load_text
from bot.cli.backtest import OrdersFileError, Summary, evaluate, files_note, not_in_files, read_orders
from bot.policy_file import load_file
from tests.conftest import shared_file

EXAMPLES = load_file(Path(__file__).resolve().parents[2] / "holdfast.example.yml")
ORDERS = [{"id": i, "name": f"#{i}", "currency": "USD", "total_price": p, "tags": t}
          for i, p, t in [(1, "10.00", "staff"), (2, "9000.00", ""), (3, "5.00", "")]]


@pytest.mark.parametrize("text", [
    json.dumps(ORDERS),                                   # a JSON array
    "\n".join(json.dumps(o) for o in ORDERS) + "\n",      # JSON lines
    json.dumps(ORDERS, indent=2),                         # pretty-printed array
    "[" + ",\n ".join(json.dumps(o) for o in ORDERS) + "]  \n",
])
def test_read_orders_accepts_arrays_and_json_lines(text):
    assert list(read_orders(io.StringIO(text))) == ORDERS


def test_single_object_and_values_split_across_chunks(monkeypatch):
    from bot.cli import orders_file

    monkeypatch.setattr(orders_file, "CHUNK", 7)
    assert list(read_orders(io.StringIO(json.dumps(ORDERS)))) == ORDERS
    assert list(read_orders(io.StringIO(json.dumps(ORDERS[0])))) == [ORDERS[0]]


@pytest.mark.parametrize(("text", "message"), [
    ("[{\"id\": 1}", "not closed"), ("{nope}", "not valid JSON"), ("[{\"id\": 1}] trailing", "after the closing"),
])
def test_bad_files_say_what_is_wrong(text, message):
    with pytest.raises(OrdersFileError, match=message):
        list(read_orders(io.StringIO(text)))


def test_evaluate_and_summary():
    rows = list(evaluate(EXAMPLES, [*ORDERS, {"no": "id"}, "junk"]))
    assert [(r.order, r.policy) for r in rows[:3]] == [("#1", "staff-orders"), ("#2", "high-value"), ("#3", None)]
    assert rows[3].error and rows[4].error
    summary = Summary()
    for r in rows:
        summary.add(r)
    assert summary.as_json() == {"orders": 3, "flagged": {"staff-orders": 1, "high-value": 1}, "not_flagged": 1,
                                 "skipped": 2}
    # Facts no webhook holds are said once, up front (files_note), not reported missing on every order; and a
    # fact missing from a branch that did not decide (the order tag made staff-orders' `any` true) is not said.
    assert rows[0].missing == ()
    assert all(not set(r.missing) & set(not_in_files(EXAMPLES)) for r in rows)


def test_files_note_names_what_webhook_files_cannot_hold():
    note = files_note(EXAMPLES)
    for words in ("customer tags", "first order", "B2B", "risk level", "--from-shop", "staff-orders", "high-risk"):
        assert words in note
    assert "international-high-value" not in note  # reads only what webhooks carry
    assert files_note(load_text("policies: [{id: x, channel: C0APPROVALS, approvers: {users: [U0ANA]}, "
                                "when: {total_price: {gte: 1}}}]")) is None


def test_from_the_shop_an_order_comes_with_its_enrichment():
    node = {"id": "gid://shopify/Order/1", "name": "#1", "currencyCode": "USD",
            "totalPriceSet": {"shopMoney": {"amount": "10.00"}}, "customer": {"tags": [], "numberOfOrders": "5"}}
    enrichment = {"risk": {"recommendation": "CANCEL", "assessments": [{"riskLevel": "HIGH"}]}}
    [row] = list(evaluate(EXAMPLES, [(node, enrichment)]))
    assert row.policy == "high-risk"


def test_shopify_sample_webhooks_backtest():
    path = shared_file("shopify", "webhooks", "orders_create.shopify-docs-2026-07.json")
    with path.open() as f:
        [row] = list(evaluate(EXAMPLES, read_orders(f)))
    assert row.error is None and row.order


def test_memory_stays_bounded_over_100k_orders():
    class Generated(io.TextIOBase):
        """100,000 JSON-lines orders produced on demand: never all in memory."""

        def __init__(self, n):
            self.n, self.i, self.pending = n, 0, ""

        def read(self, size=-1):
            while len(self.pending) < size and self.i < self.n:
                self.i += 1
                self.pending += json.dumps({"id": self.i, "name": f"#{self.i}", "currency": "USD",
                                            "total_price": str(self.i % 9000), "tags": "staff" if
                                                                                       self.i % 10 == 0 else "",
                                            "line_items": [{"title": "Mug", "quantity": 1, "price": "1"}]}) + "\n"
            out, self.pending = self.pending[:size], self.pending[size:]
            return out

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary = Summary()
    for row in evaluate(EXAMPLES, read_orders(Generated(100_000))):
        summary.add(row)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert summary.orders == 100_000 and summary.flagged["staff-orders"] == 10_000
    assert grown_kib < 30 * 1024  # streaming: 100k parsed orders held at once would take far more
