import json
from datetime import UTC, datetime

import pytest

from bot.blocks.ids import ActionId, RequestRef
from bot.blocks.request_message import RequestView, admin_url, build, text_fallback
from bot.shopify.throttle import Bucket, backoff, from_extensions

ORDER = {"name": "#1001", "legacy_id": "450789469", "total_price": "12400.5", "currency": "USD",
         "customer_name": "Ann <Lee>", "line_items": [{"title": f"Item {i}", "quantity": i, "sku": f"S{i}"}
                                                     for i in range(1, 8)]}


def view(**over):
    base = dict(id=3, version=0, shop="demo.myshopify.com", status="pending", policy_title="High value",
                reasons=("total price 12,400.50 USD ≥ 10,000 USD",), order=ORDER, hold_state="placed")
    base.update(over)
    return RequestView(**base)


def _text(blocks):
    return json.dumps(blocks, ensure_ascii=False)


def test_pending_message_has_everything_to_decide():
    blocks = build(view())
    text = _text(blocks)
    assert "#1001" in text and "12,400.50 USD" in text and "High value" in text and "12,400.50 USD ≥" in text
    assert admin_url("demo.myshopify.com", "450789469") in text
    assert "Ann &lt;Lee&gt;" in text  # escaped for mrkdwn
    assert "…and 2 more" in text  # long orders are cut, not overflowing Slack's limits
    actions = [b for b in blocks if b["type"] == "actions"][0]["elements"]
    assert [a["action_id"] for a in actions] == [ActionId.APPROVE, ActionId.REJECT]
    assert RequestRef.parse(actions[0]["value"]) == RequestRef(request_id=3, version=0)
    assert "confirm" in actions[1]  # reject asks first


def test_decided_message_has_no_buttons_and_says_who_and_when():
    blocks = build(view(status="approved", decided_by="U0ANA", decided_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                        hold_state="released"))
    text = _text(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "<@U0ANA>" in text and "Approved" in text and "2026-01-02 03:04" in text and "hold released" in text
    assert "approved" in blocks[0]["text"]["text"]


@pytest.mark.parametrize("state,label", [("pending", "placing hold"), ("failed", "hold NOT placed: boom")])
def test_hold_states_are_visible(state, label):
    assert label in _text(build(view(hold_state=state, hold_error="boom")))


def test_fallback_text_and_bad_button_values():
    assert "#1001" in text_fallback(view())
    assert RequestRef.parse("not json") is None and RequestRef.parse('{"request_id": "x"}') is None


def test_bucket_maths():
    b = Bucket(maximum=1000, available=100, restore_rate=50, at=10.0)
    assert b.available_at(12.0) == 200
    assert b.available_at(100.0) == 1000  # never above the maximum
    assert b.wait_for(50, 10.0) == 0
    assert b.wait_for(200, 10.0) == pytest.approx(2.0)
    assert b.wait_for(5000, 10.0) == pytest.approx(18.0)  # capped at the bucket size
    assert b.spend(100, 10.0).available == 0


def test_throttle_status_and_backoff():
    ext = {"cost": {"requestedQueryCost": 12, "throttleStatus": {"maximumAvailable": 2000.0,
                                                                 "currentlyAvailable": 10, "restoreRate": 100.0}}}
    b = from_extensions(ext, 5.0)
    assert (b.maximum, b.available, b.restore_rate, b.at) == (2000.0, 10, 100.0, 5.0)
    assert from_extensions({}, 0) is None
    assert backoff(1, 1, 300, 0.0) == 0.5 and backoff(3, 1, 300, 0.999) == pytest.approx(4 * 0.9995)
    assert backoff(30, 1, 300, 0.5) <= 300
