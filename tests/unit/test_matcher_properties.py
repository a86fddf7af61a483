"""The matcher never raises on order-shaped input, whatever the webhook sends."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.approvals.orders import OrderPayloadError, from_webhook
from bot.approvals.policies import match
from bot.policy_file import load_file

EXAMPLES = load_file(Path(__file__).resolve().parents[2] / "holdfast.example.yml")
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12)
money = st.none() | st.text(max_size=8) | st.decimals(allow_nan=False, places=2).map(str) | st.integers()
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=6), inner, max_size=3), max_leaves=8)
line_item = st.fixed_dictionaries({}, optional={
    "title": scalars, "quantity": st.none() | st.integers(-5, 10**6) | st.text(max_size=3), "price": money,
    "sku": scalars, "vendor": scalars, "product_type": scalars})
orders = st.fixed_dictionaries({"id": st.integers() | st.text(min_size=1, max_size=10)}, optional={
    "name": scalars, "currency": scalars, "total_price": money, "subtotal_price": money,
    "total_line_items_price": money, "total_discounts": money, "tags": st.none() | st.text(max_size=20),
    "discount_codes": st.lists(st.dictionaries(st.sampled_from(["code", "amount"]), scalars), max_size=3),
    "customer": st.none() | st.fixed_dictionaries({}, optional={
        "tags": st.none() | st.text(max_size=20), "email": scalars, "orders_count": st.none() | st.integers(),
        "first_name": scalars}),
    "line_items": st.lists(line_item, max_size=4),
    "note_attributes": st.lists(st.fixed_dictionaries({"name": scalars, "value": scalars}), max_size=3),
    "shipping_address": st.none() | st.dictionaries(st.sampled_from(["country_code", "province_code"]), scalars),
    "company": json_values, "payment_terms": st.none() | st.dictionaries(st.just("payment_terms_name"), scalars),
    "payment_gateway_names": st.lists(scalars, max_size=2), "shipping_lines": st.lists(
        st.dictionaries(st.sampled_from(["title", "code"]), scalars), max_size=2),
    "extra": json_values})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders)
def test_matcher_never_raises(body):
    try:
        facts = from_webhook(body)
    except OrderPayloadError:
        return  # a clear "unreadable order" is the one allowed refusal
    hit = match(EXAMPLES, facts)
    assert hit is None or hit.policy.id in {p.id for p in EXAMPLES.policies}
