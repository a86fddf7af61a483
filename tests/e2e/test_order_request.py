"""/order-request end to end: search, validation, draft, approve → one order, reject, cancel, no loop (issue 6)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bot.features.requests import decisions
from bot.approvals.machine import Vote
from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, SHOP, DevStack
from tests.e2e.approvals_helpers import until

POLICIES = """
policies:
  - id: staff-orders
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {any: [{customer_tag: staff}, {order_tag: internal-order}]}
  - id: internal-orders
    name: Internal order
    channel: C0APPROVALS
    approvers: {users: [U0ANA, U0BEN]}
    internal:
      pricing: free
      payment: {payment}
      on_reject: {on_reject}
      fields:
        - {id: department, label: Department, type: select, options: [Marketing, Sales]}
        - {id: cost_centre, label: Cost centre, type: text}
        - {id: reason, label: Reason, type: multiline}
      addresses:
        HQ: {name: Ops Team, address1: 1 Harbour Street, city: Portland, zip: "97201", country_code: US}
"""
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


def stack_for(database_url, on_reject="tag", payment="paid"):
    text = POLICIES.replace("{on_reject}", on_reject).replace("{payment}", payment)
    return DevStack(database_url=database_url, policies=load_text(text))


@pytest.fixture
async def stack(database_url):
    async with stack_for(database_url) as s:
        s.hoodie = s.shopify.add_product(SHOP, "Hoodie", variants=[
            {"title": "M", "sku": "HOOD-M", "price": "60.00", "inventory_quantity": 12},
            {"title": "L", "sku": "HOOD-L", "price": "60.00", "inventory_quantity": 0}])
        s.mug = s.shopify.add_product(SHOP, "Mug", variants=[{"sku": "MUG-1", "price": "12.00",
                                                               "inventory_quantity": 40}])
        yield s


async def open_form(stack, user="U0ANA") -> dict:
    before = set(stack.slack.views)
    status, _ = await stack.sim.slash("/order-request", "", user, CHANNEL)
    assert status == 200
    return await until(lambda: next((v for k, v in stack.slack.views.items() if k not in before), None), what="modal")


def state(items=(), address="HQ", text=None, deliver_by=TOMORROW, **fields) -> dict:
    values: dict = {}
    for n, (variant, qty) in enumerate(items):
        if variant:
            values[f"order-item-{n}"] = {ActionId.ORDER_PRODUCT: {"type": "external_select",
                                                                  "selected_option": {"value": variant}}}
        values[f"order-qty-{n}"] = {ActionId.ORDER_QUANTITY: {"type": "number_input", "value": qty}}
    if address:
        values["order-address"] = {ActionId.ORDER_INPUT: {"type": "static_select", "selected_option": {"value": address}}}
    if text:
        values["order-address-text"] = {ActionId.ORDER_INPUT: {"type": "plain_text_input", "value": text}}
    if deliver_by:
        values["order-deliver-by"] = {ActionId.ORDER_INPUT: {"type": "datepicker", "selected_date": deliver_by}}
    good = {"department": "Marketing", "cost_centre": "CC-7", "reason": "Berlin trade fair", **fields}
    if good["department"]:
        values["field-department"] = {"value": {"type": "static_select",
                                                "selected_option": {"value": good["department"]}}}
    for key in ("cost_centre", "reason"):
        if good[key] is not None:
            values[f"field-{key}"] = {"value": {"type": "plain_text_input", "value": good[key]}}
    return values


async def submit(stack, values, user="U0ANA") -> tuple[int, dict]:
    view = await open_form(stack, user)
    status, body = await stack.sim.submit_view(view["id"], user, values)
    return status, json.loads(body) if body.strip() else {}


async def request_of(stack, user="U0ANA"):
    from storage import internal as store

    async with stack.rt.sessions() as session:
        return (await store.mine(session, requester=user))[0]


async def submitted(stack, user="U0ANA", items=None):
    m, mug = stack.hoodie.variants[0], stack.mug.variants[0]
    status, body = await submit(stack, state(items or [(m.gid, "2"), (mug.gid, "3")]), user)
    assert status == 200 and body == {}, body
    await stack.settle()
    return await request_of(stack, user)


async def test_product_search_offers_title_variant_sku_and_stock(stack):
    view = await open_form(stack)
    status, body = await stack.sim.suggest(view["id"], ActionId.ORDER_PRODUCT, "U0ANA", "hoodie",
                                           block_id="order-item-0")
    assert status == 200
    options = json.loads(body)["options"]
    assert [o["text"]["text"] for o in options] == ["Hoodie · M · SKU HOOD-M · 12 in stock",
                                                    "Hoodie · L · SKU HOOD-L · 0 in stock"]
    assert options[0]["value"] == stack.hoodie.variants[0].gid
    status, body = await stack.sim.suggest(view["id"], ActionId.ORDER_PRODUCT, "U0ANA", "MUG-1",
                                           block_id="order-item-1")
    assert [o["text"]["text"] for o in json.loads(body)["options"]] == ["Mug · SKU MUG-1 · 40 in stock"]


@pytest.mark.parametrize(("values", "errors"), [
    (lambda s: state([]), {"order-item-0": "Add at least one product."}),
    (lambda s: state([(s.mug.variants[0].gid, "0")]), {"order-qty-0": "The quantity must be at least 1."}),
    (lambda s: state([(s.mug.variants[0].gid, "1")], deliver_by=(date.today() - timedelta(days=1)).isoformat()),
     {"order-deliver-by": "That date is in the past."}),
    (lambda s: state([("gid://shopify/ProductVariant/999999", "1")]),
     {"order-item-0": "This product is no longer available: search again."}),
    (lambda s: state([("not-a-variant", "1")]), {"order-item-0": "Unknown product variant: search and pick it again."}),
    (lambda s: state([(s.mug.variants[0].gid, "1")], address=None),
     {"order-address": "Pick a saved address or type one below."}),
    (lambda s: state([(s.mug.variants[0].gid, "1")], cost_centre=None, department=None),
     {"field-cost_centre": "This field is required.", "field-department": "This field is required."}),
])
async def test_invalid_input_gets_inline_errors(stack, values, errors):
    status, body = await submit(stack, values(stack))
    assert status == 200 and body == {"response_action": "errors", "errors": errors}
    assert not stack.shopify.draft_orders


async def test_draft_has_lines_address_attributes_tags_and_free_pricing(stack):
    req = await submitted(stack)
    [draft] = stack.shopify.draft_orders.values()
    assert req.status == "pending" and req.order_gid == draft.gid and req.draft_state == "open"
    assert [(li.sku, li.quantity) for li in draft.line_items] == [("HOOD-M", 2), ("MUG-1", 3)]
    assert set(draft.tags) >= {"internal-order", "holdfast-pending"}
    attrs = dict(draft.custom_attributes)
    assert attrs["holdfast_request"] == str(req.id) and attrs["Department"] == "Marketing"
    assert attrs["Cost centre"] == "CC-7" and attrs["Reason"] == "Berlin trade fair" and attrs["Deliver by"] == TOMORROW
    assert draft.shipping_address.city == "Portland" and draft.total == 0
    msg = stack.slack.message(req.channel, req.message_ts)
    text = stack.slack.render(msg.blocks)
    assert "<@U0ANA>" in json.dumps(msg.blocks) and "0.00 USD" in text and "draft_orders" in json.dumps(msg.blocks)
    [dm] = [m for m in stack.slack.find_messages(text_contains=f"order request #{req.id}")]
    assert "waiting for approval" in dm.text and "draft_orders" in json.dumps(dm.blocks)
    assert not any(j.kind == "shopify.hold" for j in await stack.jobs())  # drafts have nothing to hold


@pytest.mark.parametrize(("payment", "financial_status"), [("paid", "PAID"), ("pending", "PENDING")])
async def test_payment_is_marked_paid_or_left_pending_as_the_policy_says(database_url, payment, financial_status):
    async with stack_for(database_url, payment=payment) as s:
        s.hoodie = s.shopify.add_product(SHOP, "Hoodie", variants=[{"title": "M", "sku": "HOOD-M", "price": "60.00",
                                                                     "inventory_quantity": 12}])
        s.mug = s.shopify.add_product(SHOP, "Mug", variants=[{"sku": "MUG-1", "price": "12.00",
                                                               "inventory_quantity": 40}])
        req = await submitted(s)
        [draft] = s.shopify.draft_orders.values()
        assert (draft.payment_terms is not None) == (payment == "pending")
        await s.click(req, ActionId.APPROVE, "U0BEN")
        await s.settle()
        [order] = [o for o in s.shopify.orders.values() if o.source_name == "holdfast"]
        assert order.financial_status == financial_status


async def test_a_lost_draft_create_reply_never_makes_a_second_draft(stack):
    # Shopify makes the draft, then the reply is lost: the retry finds it by its request tag.
    stack.shopify.faults.add(kind="5xx", root_field="draftOrderCreate", times=1, after_execute=True)
    req = await submitted(stack)
    [draft] = stack.shopify.draft_orders.values()
    assert req.status == "pending" and req.order_gid == draft.gid
    assert f"holdfast-request-{req.id}" in draft.tags
    creates = [c for c in stack.shopify.calls if "draftOrderCreate" in c["root_fields"]]
    assert len(creates) == 1  # the retry searched (DraftOrdersByTag) instead of creating again
    assert any(c["operation"] == "DraftOrdersByTag" for c in stack.shopify.calls)


async def test_approve_completes_once_even_when_retried_and_does_not_loop(stack):
    req = await submitted(stack)
    stack.shopify.faults.add(kind="5xx", root_field="draftOrderComplete", times=1, after_execute=True)
    status, _ = await stack.click(req, ActionId.APPROVE, "U0BEN")
    assert status == 200
    await stack.settle()
    req = await request_of(stack)
    [draft] = stack.shopify.draft_orders.values()
    assert draft.status == "COMPLETED" and req.status == "approved" and req.outcome_state == "done"
    orders = [o for o in stack.shopify.orders.values() if o.source_name == "holdfast"]
    assert len(orders) == 1 and req.placed_order_gid == orders[0].gid
    assert {"internal-order", "holdfast-approved"} <= set(orders[0].tags)
    assert orders[0].name in json.dumps(stack.slack.message(req.channel, req.message_ts).blocks)
    # Its orders/create webhook matches the staff policy's tag rule, yet makes no new request.
    assert await stack.shopify.deliver_webhook(SHOP, "orders/create", orders[0].webhook_body()) == 200
    await stack.settle()
    assert await stack.request_for(orders[0]) is None


async def test_requester_cannot_approve_their_own_request(stack):
    req = await submitted(stack)
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle()
    assert (await request_of(stack)).status == "pending"
    assert any("requested this order" in e["text"] for e in stack.slack.ephemerals)


@pytest.mark.parametrize("on_reject", ["tag", "delete"])
async def test_reject_tags_or_deletes_the_draft_and_tells_the_requester(database_url, on_reject):
    async with stack_for(database_url, on_reject) as stack:
        stack.mug = stack.shopify.add_product(SHOP, "Mug", variants=[{"sku": "MUG-1", "price": "12.00"}])
        stack.hoodie = stack.mug
        req = await submitted(stack, items=[(stack.mug.variants[0].gid, "1")])
        draft_gid = req.order_gid
        view = await stack.open_modal(req, ActionId.REJECT, "U0BEN")
        await stack.submit_modal(view, "U0BEN", {"reason": "no budget left"})
        await stack.settle()
        req = await request_of(stack)
        assert req.status == "rejected"
        if on_reject == "delete":
            assert draft_gid not in stack.shopify.draft_orders and req.draft_state == "deleted"
        else:
            assert "holdfast-rejected" in stack.shopify.draft_orders[draft_gid].tags
        assert stack.slack.find_messages(text_contains="no budget left")
        assert not [o for o in stack.shopify.orders.values() if o.source_name == "holdfast"]


async def test_requester_cancels_from_their_dm(stack):
    req = await submitted(stack)
    [dm] = stack.slack.find_messages(text_contains=f"order request #{req.id}")
    status, _ = await stack.sim.click(dm.channel, dm.ts, ActionId.ORDER_CANCEL, "U0ANA")
    assert status == 200
    await stack.settle()
    req = await request_of(stack)
    assert req.status == "cancelled" and "holdfast-cancelled" in stack.shopify.draft_orders[req.order_gid].tags
    assert not any(e.get("action_id") == ActionId.APPROVE for b in stack.slack.message(req.channel, req.message_ts)
                   .blocks for e in b.get("elements", []))
    late = await decisions.vote(stack.rt, request_id=req.id, user="U0BEN", vote=Vote.APPROVE)  # e.g. from a stale queue
    await stack.settle()
    assert late.outcome == "already"
    assert stack.shopify.draft_orders[req.order_gid].status == "OPEN"


async def test_status_lists_the_callers_requests(stack):
    req = await submitted(stack)
    before = len(stack.slack.responses)
    status, _ = await stack.sim.slash("/order-request", "status", "U0ANA", CHANNEL)
    assert status == 200
    await until(lambda: len(stack.slack.responses) > before, what="status reply")
    reply = stack.slack.responses[-1]
    assert f"#{req.id}" in json.dumps(reply) and "waiting for approval" in json.dumps(reply)


async def test_a_failed_draft_is_visible_and_can_be_retried(stack):
    stack.rt.settings.job_max_attempts = 1
    stack.shopify.faults.add(kind="5xx", root_field="draftOrderCreate", times=50)  # past the client's own retries
    req = await submitted(stack)
    stack.shopify.faults.clear()
    assert req.status == "drafting" and req.draft_state == "failed"
    [dm] = stack.slack.find_messages(text_contains=f"order request #{req.id}")
    dm = stack.slack.message(dm.channel, dm.ts)
    await stack.sim.click(dm.channel, dm.ts, ActionId.ORDER_RETRY, "U0ANA")
    await stack.settle()
    req = await request_of(stack)
    assert req.status == "pending" and len(stack.shopify.draft_orders) == 1


async def test_reconciliation_leaves_internal_requests_alone(stack):
    from bot.features.reconcile.service import reconcile_shop

    pending = await submitted(stack)
    await reconcile_shop(stack.rt, SHOP)  # a draft gid is no Order: it must not read as "deleted"
    await stack.settle()
    assert (await request_of(stack)).status == "pending" and pending.status == "pending"


async def test_with_several_shops_the_form_asks_which_and_search_and_draft_follow_it(database_url):
    second = "second-store.myshopify.com"
    text = POLICIES.replace("{on_reject}", "tag").replace("{payment}", "paid")
    async with DevStack(database_url=database_url, policies=load_text(text),
                        shopify_shops=f"{SHOP}=shpat_sandbox_token,{second}=shpat_second") as s:
        s.shopify.add_shop(second, access_token="shpat_second", webhook_secret="x")
        poster = s.shopify.add_product(second, "Poster", variants=[{"sku": "POST-1", "price": "5.00",
                                                                    "inventory_quantity": 9}])
        s.shopify.add_product(SHOP, "Mug", variants=[{"sku": "MUG-1", "price": "12.00", "inventory_quantity": 40}])
        view = await open_form(s)
        [shop_block] = [b for b in view["blocks"] if b.get("block_id") == "order-shop"]
        assert [o["value"] for o in shop_block["element"]["options"]] == sorted([SHOP, second])
        pick = {"order-shop": {ActionId.ORDER_INPUT: {"type": "static_select", "selected_option": {"value": second}}}}
        status, body = await s.sim.suggest(view["id"], ActionId.ORDER_PRODUCT, "U0ANA", "poster",
                                           block_id="order-item-0", values=pick)
        assert [o["value"] for o in json.loads(body)["options"]] == [poster.variants[0].gid]
        status, body = await s.sim.suggest(view["id"], ActionId.ORDER_PRODUCT, "U0ANA", "poster",
                                           block_id="order-item-0")  # no shop picked yet: the first shop
        assert json.loads(body)["options"] == []
        status, body = await s.sim.submit_view(view["id"], "U0ANA",
                                               {**state([(poster.variants[0].gid, "4")]), **pick})
        assert status == 200 and not body.strip(), body
        await s.settle()
        [draft] = s.shopify.draft_orders.values()
        assert draft.shop == second and [li.sku for li in draft.line_items] == ["POST-1"]
        assert (await request_of(s)).shop_domain == second
