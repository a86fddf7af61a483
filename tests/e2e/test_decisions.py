"""Decisions the way approvers need them: modals, groups, N of M, delegation, every outcome (issue 4)."""

import asyncio
import json

import pytest
from sqlalchemy import update

from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from storage.models import ApprovalRequest

POLICIES = """
policies:
  - id: finance
    name: Large order
    channel: C0APPROVALS
    approvers: {users: [U0ANA], groups: [S0FINANCE], required: 2, delegation: true}
    when: {total_price: {gte: 1000}}
    fields:
      approve:
        - {id: cost_centre, label: Cost centre, type: select, options: [CC-100, CC-200]}
        - {id: budget, label: Budget, type: number, min: 0, max: 50000}
        - {id: ship_by, label: Ship by, type: date}
        - {id: owner, label: Owner, type: user, required: false}
        - {id: po, label: PO number, type: text}
        - {id: notes, label: Notes, type: multiline, required: false}
    on_reject: cancel
    cancel: {reason: DECLINED, restock: true}
    metafield: {namespace: holdfast, key: decision}
  - id: quick
    channel: C0APPROVALS
    approvers: {users: [U0ANA, U0BEN, U0CAT], required: 2}
    when: {customer_tag: quick}
    fields: {reject: []}
    on_reject: release
"""
BIG = dict(line_items=[{"title": "Espresso machine", "sku": "ESP", "quantity": 1, "price": "1500.00"},
                       {"title": "Grinder", "sku": "GRD", "quantity": 1, "price": "900.00"}],
           customer={"email": "b@x.example", "first_name": "Bea", "last_name": "Buyer", "tags": []}, fulfillment_orders=2)
QUICK = dict(line_items=[{"title": "Mug", "sku": "MUG", "quantity": 1, "price": "12.00"}],
             customer={"email": "q@x.example", "first_name": "Quinn", "tags": ["quick"]})
GOOD = dict(cost_centre="CC-200", budget="2500", ship_by="2030-05-01", po="PO-77", notes="for the Berlin event")


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES), usergroup_cache_s=0.3) as s:
        s.slack.add_user("U0CAT", name="cat", real_name="Cat Controller")
        s.slack.add_usergroup("S0FINANCE", ["U0BEN", "U0CAT"])
        yield s


async def pending(stack, spec, **order):
    created = await stack.place_order(**spec, **order)
    await stack.settle()
    return created, await stack.request_for(created)


def sent(stack, method):
    return [c for c in stack.slack.calls if c["method"] == method and c["ok"]]


async def test_modal_has_every_field_type_and_reports_errors_inline(stack):
    _, req = await pending(stack, BIG)
    view = await stack.open_modal(req, ActionId.APPROVE, "U0ANA")
    inputs = {b["block_id"]: (b["element"]["type"], b["optional"]) for b in view["blocks"] if b["type"] == "input"}
    assert inputs == {"field-cost_centre": ("static_select", False), "field-budget": ("number_input", False),
                      "field-ship_by": ("datepicker", False), "field-owner": ("users_select", True),
                      "field-po": ("plain_text_input", False), "field-notes": ("plain_text_input", True)}
    status, body = await stack.submit_modal(view, "U0ANA", {**GOOD, "budget": "90000", "po": "  "})
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {"field-budget": "Must be at most 50000.", "field-po": "This field is required."}
    assert (await stack.request_for_id(req.id)).version == 0  # nothing recorded
    status, body = await stack.submit_modal(view, "U0ANA", GOOD)
    assert status == 200 and not body.strip()  # closes the modal
    await stack.settle()
    req = await stack.request_for_id(req.id)
    assert req.status == "pending" and req.version == 1
    text = stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    assert "Approvals: 1 of 2: approved by @U0ANA" in text and "[Approve]" in text


async def test_reject_button_asks_for_confirmation(stack):
    _, req = await pending(stack, BIG)
    [reject] = [e for b in stack.slack.message(CHANNEL, req.message_ts).blocks if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == ActionId.REJECT]
    assert reject["confirm"]["confirm"]["text"] == "Reject" and reject["style"] == "danger"


async def test_two_of_m_with_a_group_member_releases_once_and_writes_fields_to_the_order(stack):
    order, req = await pending(stack, BIG, note="Gift wrap please")
    stack.shopify.orders[order.gid].metafields[("custom", "gift")] = {"id": "gid://shopify/Metafield/1", "type":
                                                                      "single_line_text_field", "namespace": "custom",
                                                                      "key": "gift", "value": "yes"}
    await stack.decide(req, ActionId.APPROVE, "U0ANA", **GOOD)
    await stack.settle()
    assert all(stack.shopify.release_calls(fo.gid) == 0 for fo in stack.shopify.orders[order.gid].fulfillment_orders)
    await stack.decide(req, ActionId.APPROVE, "U0BEN", **{**GOOD, "cost_centre": "CC-100"})  # BEN via S0FINANCE
    await stack.settle()
    req = await stack.request_for_id(req.id)
    assert (req.status, req.decided_by, req.outcome_state) == ("approved", "U0BEN", "done")
    sb = stack.shopify.orders[order.gid]
    assert all(stack.shopify.release_calls(fo.gid) == 1 and not fo.holds for fo in sb.fulfillment_orders)
    # Merged with what was there, never overwritten.
    assert sb.note.startswith("Gift wrap please\n") and "cost_centre: CC-100" in sb.note
    # Also recorded as a JSON metafield, as the policy configures, beside the order's other metafields.
    assert sb.metafields[("custom", "gift")]["value"] == "yes"
    decision = json.loads(sb.metafields[("holdfast", "decision")]["value"])
    assert decision["status"] == "approved" and decision["by"] == "U0BEN" and decision["fields"]["cost_centre"] == "CC-100"
    text = stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    assert "Approved* by @U0BEN" in text and "Cost centre: CC-100" in text and "applied in Shopify" in text
    thread = [m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]
    assert any("<@U0ANA> approved (1 of 2" in t for t in thread)
    assert any("<@U0BEN> approved (2 of 2" in t for t in thread)
    assert any("Shopify: hold released" in t for t in thread)


async def test_concurrent_votes_give_exactly_one_decision_and_lose_no_vote(stack):
    _, req = await pending(stack, QUICK)
    await asyncio.gather(*(stack.click(req, ActionId.APPROVE, u) for u in ("U0ANA", "U0BEN", "U0CAT")))
    await stack.settle()
    req = await stack.request_for_id(req.id)
    assert req.status == "approved"
    kinds = [e.kind for e in await stack.audit_trail(req.id)]
    assert kinds.count("request.approved") == 1 and kinds.count("vote.recorded") == 1
    assert kinds.count("vote.too_late") == 1
    assert len(await stack.votes(req.id)) == 2


async def test_authorisation_matrix(stack):
    _, req = await pending(stack, QUICK)
    _, big = await pending(stack, BIG)
    # A stranger, then the requester and the order's creator, are refused; nothing changes.
    await stack.click(req, ActionId.APPROVE, "U0EVE")
    async with stack.rt.sessions() as session:
        await session.exec(update(ApprovalRequest).where(ApprovalRequest.id == req.id).values(requester="U0ANA"))
        await session.commit()
    await stack.click(req, ActionId.APPROVE, "U0ANA")
    await stack.settle()
    assert (await stack.request_for_id(req.id)).version == 0
    texts = [e["text"] for e in stack.slack.ephemerals]
    assert any("not an approver" in t for t in texts) and any("You requested this order" in t for t in texts)
    refused = [e for e in await stack.audit_trail(req.id) if e.kind == "vote.refused"]
    assert {e.actor for e in refused} == {"U0EVE", "U0ANA"}
    # A group member may vote; once removed from the group (and the cache expired), they may not.
    view = await stack.open_modal(big, ActionId.APPROVE, "U0CAT")
    assert any(b["type"] == "input" for b in view["blocks"])
    stack.slack.add_usergroup("S0FINANCE", ["U0BEN"])
    await asyncio.sleep(0.4)
    view = await stack.open_modal(big, ActionId.APPROVE, "U0CAT")
    assert "not an approver" in json.dumps(view["blocks"])
    assert not any(b["type"] == "input" for b in view["blocks"])


async def test_delegation_hands_over_to_another_approver_only(stack):
    _, req = await pending(stack, BIG)
    status, _ = await stack.sim.click(CHANNEL, req.message_ts, ActionId.DELEGATE, "U0ANA", value="U0EVE")
    assert status == 200
    status, _ = await stack.sim.click(CHANNEL, req.message_ts, ActionId.DELEGATE, "U0ANA", value="U0CAT")
    await stack.settle()
    req = await stack.request_for_id(req.id)
    assert req.assignee == "U0CAT"
    kinds = [(e.kind, e.data.get("to")) for e in await stack.audit_trail(req.id)]
    assert ("delegation.refused", "U0EVE") in kinds and ("request.delegated", "U0CAT") in kinds
    dms = [m for ch, msgs in stack.slack.messages.items() if ch.startswith("D") for m in msgs]
    assert len(dms) == 1 and "handed you order" in dms[0].text
    assert any(e.get("action_id") == ActionId.APPROVE for b in dms[0].blocks if b["type"] == "actions"
               for e in b["elements"])
    assert "Handed to @U0CAT" in stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))


async def test_reject_cancels_the_order_and_follows_shopifys_job(stack):
    order, req = await pending(stack, BIG)
    stack.shopify.faults.add(kind="5xx", root_field="orderCancel", times=1)
    await stack.decide(req, ActionId.REJECT, "U0ANA", reason="Duplicate order")
    await stack.settle(timeout=30)
    req = await stack.request_for_id(req.id)
    assert (req.status, req.outcome_state) == ("rejected", "done")
    assert stack.shopify.orders[order.gid].cancelled_at is not None
    cancels = [c for c in stack.shopify.calls if "orderCancel" in c["root_fields"] and c["status"] == 200]
    assert len(cancels) == 1
    thread = [m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]
    assert any("order #" in t.lower() and "cancelled" in t for t in thread)


async def test_a_cancel_shopify_refuses_is_said_plainly(stack):
    order, req = await pending(stack, BIG)
    stack.shopify.orders[order.gid].fulfillment_orders[0].status = "CLOSED"  # shipped meanwhile
    await stack.decide(req, ActionId.REJECT, "U0ANA", reason="Duplicate order")
    await stack.settle(timeout=30)
    req = await stack.request_for_id(req.id)
    assert req.outcome_state == "failed" and "fulfilled line items" in req.outcome_error
    assert "Shopify refused" in stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))
    thread = [m.text for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts]
    assert any("did not apply the decision" in t for t in thread)


async def test_reject_with_release_and_no_fields_is_one_click(stack):
    order, req = await pending(stack, QUICK)
    await stack.click(req, ActionId.REJECT, "U0BEN")
    await stack.settle()
    req = await stack.request_for_id(req.id)
    assert req.status == "rejected" and req.hold_state == "released"
    assert all(not fo.holds for fo in stack.shopify.orders[order.gid].fulfillment_orders)


async def test_the_staff_member_who_created_the_order_cannot_approve_it(database_url):
    text = POLICIES.replace("policies:", "staff: {7001: U0ANA}\npolicies:", 1)
    async with DevStack(database_url=database_url, policies=load_text(text)) as stack:
        _, req = await pending(stack, QUICK, user_id=7001)  # created in the admin by staff account 7001
        assert req.creator == "U0ANA"
        await stack.click(req, ActionId.APPROVE, "U0ANA")
        await stack.settle()
        assert (await stack.request_for_id(req.id)).version == 0
        assert any("You created this order" in e["text"] for e in stack.slack.ephemerals)


async def test_a_slack_429_while_filling_the_modal_is_waited_out(stack):
    _, req = await pending(stack, BIG)
    stack.slack.faults.add("429", method="views.update", times=1, retry_after=1)
    view = await stack.open_modal(req, ActionId.APPROVE, "U0ANA", timeout=10)
    assert any(b["type"] == "input" for b in view["blocks"])  # filled in after the 429, not left "Loading"
