"""The pure core of /order-request: validation, address parsing, the draft input, the loop guard."""

from datetime import date

import pytest

from bot.approvals import internal
from bot.approvals.effects import JobKind
from bot.approvals.machine import RequestState, Status, internal_outcome
from bot.approvals.policies import load_text

POLICY = load_text("""
policies:
  - id: internal-orders
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    internal:
      pricing: {pricing}
      on_reject: delete
      fields: [{id: reason, label: Reason, type: text}]
      addresses: {HQ: {name: Ops Team, address1: 1 Harbour St, city: Portland, country_code: US}}
""".replace("{pricing}", "free")).get("internal-orders")
V1, V2 = "gid://shopify/ProductVariant/1", "gid://shopify/ProductVariant/2"
TODAY = date(2030, 5, 1)
REASON = {"field-reason": {"value": {"value": "fair"}}}


def raw(items=((V1, "1"),), address="HQ", text=None, deliver_by="2030-05-02", shop="a.myshopify.com", fields=REASON):
    return internal.RawForm(shop, tuple(items), address, text, deliver_by, fields)


@pytest.mark.parametrize(("form", "errors"), [
    (raw(), {}),
    (raw(items=()), {"item-0": "Add at least one product."}),
    (raw(items=((None, "1"), (None, "1"))), {"item-0": "Add at least one product."}),
    (raw(items=((None, "3"),)), {"item-0": "Pick a product for this quantity."}),
    (raw(items=((V1, "0"),)), {"qty-0": "The quantity must be at least 1."}),
    (raw(items=((V1, "-2"),)), {"qty-0": "The quantity must be at least 1."}),
    (raw(items=((V1, "1.5"),)), {"qty-0": "Enter a whole number, like 2."}),
    (raw(items=(("gid://shopify/Product/1", "1"),)), {"item-0": "Unknown product variant: search and pick it again."}),
    (raw(deliver_by="2030-04-30"), {"deliver-by": "That date is in the past."}),
    (raw(deliver_by=None), {"deliver-by": "Pick the date it is needed by."}),
    (raw(deliver_by="2030-05-01"), {}),  # today is fine
    (raw(address=None), {"address": "Pick a saved address or type one below."}),
    (raw(address="Moon base"), {"address": "That saved address no longer exists; pick another."}),
    (raw(address=internal.TYPED, text="just a name"),
     {"address-text": "One item per line: name, street, postcode and city, country code (e.g. DE)."}),
    (raw(shop="other.myshopify.com"), {"shop": "Pick the shop to order from."}),
    (raw(fields={}), {"field-reason": "This field is required."}),
])
def test_validate(form, errors):
    sub, found = internal.validate(form, POLICY, shops=["a.myshopify.com"], today=TODAY)
    assert found == errors
    assert (sub is None) == bool(errors)


def test_lines_are_merged_and_the_single_shop_is_implied():
    sub, _ = internal.validate(raw(items=((V1, "2"), (V2, ""), (V1, "3")), shop=None), POLICY,
                               shops=["a.myshopify.com"], today=TODAY)
    assert sub.lines == ((V1, 5), (V2, 1)) and sub.shop == "a.myshopify.com"
    assert internal.Submission.load(sub.dump()) == sub


@pytest.mark.parametrize(("text", "address"), [
    ("Ana Lopez\nHafenstr. 1\n20457 Hamburg\nde",
     {"firstName": "Ana", "lastName": "Lopez", "address1": "Hafenstr. 1", "zip": "20457", "city": "Hamburg",
      "countryCode": "DE"}),
    ("Ops\n1 Main St\nSuite 4\nBuilding B\nDublin\nIE",
     {"firstName": "Ops", "address1": "1 Main St", "address2": "Suite 4, Building B", "city": "Dublin",
      "countryCode": "IE"}),
    ("Ana\nHafenstr. 1\nHamburg", None),
    ("Ana\nHafenstr. 1\n20457 Hamburg\nGermany", None),
    (None, None),
])
def test_parse_address(text, address):
    assert internal.parse_address(text) == address


@pytest.mark.parametrize(("pricing", "discount"), [("free", True), ("real", False)])
def test_draft_input(pricing, discount):
    policy = POLICY.model_copy(update={"internal": POLICY.internal.model_copy(update={"pricing": pricing})})
    sub, _ = internal.validate(raw(items=((V1, "2"),)), policy, shops=["a.myshopify.com"], today=TODAY)
    out = internal.draft_input(sub, policy, request_id=7, requester="U0ANA", requester_name="Ana")
    assert out["lineItems"] == [{"variantId": V1, "quantity": 2}]
    assert out["tags"] == ["internal-order", "holdfast-pending", "holdfast-request-7"]
    assert {"key": "holdfast_request", "value": "7"} in out["customAttributes"]
    assert {"key": "Reason", "value": "fair"} in out["customAttributes"]
    assert out["shippingAddress"]["city"] == "Portland"
    assert ("appliedDiscount" in out) is discount
    if discount:
        assert out["appliedDiscount"]["value"] == 100.0 and out["appliedDiscount"]["valueType"] == "PERCENTAGE"


@pytest.mark.parametrize(("order", "request_id"), [
    ({"source_name": "holdfast", "tags": "internal-order, holdfast-approved",
      "note_attributes": [{"name": "holdfast_request", "value": "12"}]}, 12),
    ({"source_name": "web", "tags": "internal-order", "note_attributes": [{"name": "holdfast_request", "value": "12"}]},
     None),  # typed in the admin to dodge approval: matched as usual
    ({"source_name": "holdfast", "tags": "", "note_attributes": [{"name": "holdfast_request", "value": "12"}]}, None),
    ({"source_name": "holdfast", "tags": ["internal-order"], "note_attributes": []}, None),
])
def test_own_request_id(order, request_id):
    assert internal.own_request_id(order) == request_id


@pytest.mark.parametrize(("node", "text"), [
    ({"title": "M", "sku": "H-M", "inventoryQuantity": 3, "product": {"title": "Hoodie"}}, "Hoodie · M · SKU H-M · 3 in stock"),
    ({"title": "Default Title", "sku": None, "inventoryQuantity": None, "product": {"title": "Mug"}},
     "Mug · stock unknown"),
    ({"title": "X", "sku": "S", "inventoryQuantity": 1, "product": {"title": "A" * 90}}, "A" * 74 + "…"),
])
def test_option_text(node, text):
    assert internal.option_text(node) == text


def test_search_query_quotes_words():
    assert internal.search_query(' hoodie  sku:"x" ') == '"hoodie" "sku:x" product_status:active'


@pytest.mark.parametrize(("status", "kind", "payload"), [
    (Status.APPROVED, JobKind.DRAFT_COMPLETE, {"draft_gid": "gid://shopify/DraftOrder/1", "payment": "pending",
                                               "tag": "holdfast-approved"}),
    (Status.REJECTED, JobKind.DRAFT_REJECT, {"draft_gid": "gid://shopify/DraftOrder/1", "tag": "holdfast-rejected",
                                             "delete": True}),
])
def test_internal_outcome_never_holds(status, kind, payload):
    req = RequestState(id=3, shop="a.myshopify.com", order_gid="gid://shopify/DraftOrder/1", status=Status.PENDING,
                       version=1, policy_id="internal-orders", order_name="#D1", requester="U0ANA")
    effects = internal_outcome(req, POLICY, status, by="U0BEN", fields={"reason": "no budget"})
    assert effects[0].kind is kind and effects[0].payload == payload
    assert {e.kind for e in effects}.isdisjoint({JobKind.HOLD, JobKind.RELEASE, JobKind.TAGS})
    assert "no budget" in effects[-1].payload["text"] or status is Status.APPROVED
