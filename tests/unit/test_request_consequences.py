"""What the approver is told a decision does, before and after it (pure builders, table-driven, no mocks)."""

import json
from datetime import UTC, datetime

import pytest

from bot.approvals.schema import Policy
from bot.blocks import consequences, modal, queue
from bot.blocks.ids import ActionId, DecisionMeta
from bot.blocks.request_message import RequestView, build, text_fallback
from sandbox.slack.blockkit import check_message, check_view

ORDER = {"name": "#1004", "legacy_id": "1004", "total_price": "1240", "currency": "USD", "customer_name": "Bea",
         "shipping_country": "NL", "line_items": [{"title": "Espresso machine", "quantity": 1, "sku": "ESP"}]}
DRAFT = {"name": "#D12", "legacy_id": "12", "total_price": "0.00", "currency": "EUR", "ship_to": "Berlin, DE",
         "deliver_by": "2027-01-10", "line_items": []}
JPY = {**ORDER, "total_price": "12000", "currency": "JPY"}
WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def policy(**over) -> Policy:
    base = {"id": "p", "name": "Large order", "channel": "C0APPROVALS", "approvers": {"users": ["U0ANA"]},
            "when": {"total_price": {"gte": 1000}}}
    if "internal" in over:
        base.pop("when")
    return Policy.model_validate({**base, **over})


CANCEL_ALL = policy(on_reject="cancel", cancel={"restock": True, "refund": True, "notify_customer": True})
CANCEL_ONLY = policy(on_reject="cancel", cancel={"restock": False, "refund": False})
KEEP = policy()
RELEASE = policy(on_reject="release", tags={"rejected": "not-approved"})
DRAFT_TAG = policy(internal={"on_reject": "tag"})
DRAFT_DELETE = policy(internal={"on_reject": "delete"})


@pytest.mark.parametrize("pol, order, said", [
    (CANCEL_ALL, ORDER, ("Rejecting cancels order #1004, restocks its items and refunds 1,240.00 USD to the "
                         "customer. Shopify emails the customer.")),
    (CANCEL_ALL, JPY, "refunds 12,000 JPY to the customer"),  # each currency's own decimals (bot/blocks/money.py)
    (CANCEL_ONLY, ORDER, "Rejecting cancels order #1004. No refund is made. The customer is not emailed."),
    (KEEP, ORDER, ("Rejecting keeps the hold on order #1004: it is not fulfilled until someone releases it in "
                   "Shopify. It is tagged holdfast-rejected.")),
    (RELEASE, ORDER, "Rejecting releases the hold on order #1004, so it can be fulfilled, and tags it not-approved."),
    (DRAFT_TAG, DRAFT, "Rejecting keeps draft #D12 as a draft, tagged holdfast-rejected: no order is placed."),
    (DRAFT_DELETE, DRAFT, "Rejecting deletes draft #D12 in Shopify: no order is placed."),
])
def test_reject_says_what_the_policy_does(pol, order, said):
    assert said in consequences.of(pol, order).reject


@pytest.mark.parametrize("pol, order, said, asks", [
    (KEEP, ORDER, "Approving releases the hold on order #1004, so it can be fulfilled, and tags it holdfast-approved.",
     False),
    (DRAFT_TAG, DRAFT, "Approving turns draft #D12 into an order in Shopify (0.00 EUR), tagged holdfast-approved.",
     True),
])
def test_approve_says_what_it_does_and_asks_only_when_it_does_more_than_release(pol, order, said, asks):
    got = consequences.of(pol, order)
    assert (got.approve, got.approve_asks) == (said, asks)


def view(pol: Policy | None = KEEP, order=ORDER, **over) -> RequestView:
    internal = {"requester": "U0REQ", "draft_state": "open"} if order is DRAFT else None
    base = {"id": 7, "version": 0, "shop": "demo.myshopify.com", "status": "pending", "policy_title": "Large order",
            "reasons": ("total ≥ 1,000 USD",), "order": order, "hold_state": "placed", "internal": internal,
            "consequences": consequences.of(pol, order) if pol else None}
    if pol is not None and "status" in over:
        base.update(applied=consequences.applied(pol, over["status"]),
                    keeps_hold=consequences.keeps_hold(pol, over["status"]))
    return RequestView(**{**base, **over})


def buttons(blocks) -> dict:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def test_the_reject_confirmation_carries_the_consequence_within_slacks_limits():
    blocks = build(view(CANCEL_ALL))
    confirm = buttons(blocks)[ActionId.REJECT]["confirm"]
    assert confirm["title"]["text"] == "Reject order #1004?"
    assert confirm["text"] == {"type": "plain_text", "text": consequences.of(CANCEL_ALL, ORDER).reject}
    assert confirm["style"] == "danger" and check_message(blocks) == []
    assert "confirm" not in buttons(blocks)[ActionId.APPROVE]  # approving only releases the hold: one click


def test_approving_a_draft_is_confirmed_too():
    approve = buttons(build(view(DRAFT_TAG, DRAFT)))[ActionId.APPROVE]
    assert approve["confirm"]["title"]["text"] == "Approve draft #D12?"
    assert "into an order in Shopify" in approve["confirm"]["text"]["text"]


def test_a_long_order_name_still_fits_the_dialog():
    long = {**ORDER, "name": "#" + "9" * 200}
    blocks = build(view(CANCEL_ALL, long))
    confirm = buttons(blocks)[ActionId.REJECT]["confirm"]
    assert len(confirm["title"]["text"]) <= 100 and len(confirm["text"]["text"]) <= 300
    assert check_message(blocks) == []


@pytest.mark.parametrize("over, text", [
    ({}, "Approval needed: order #1004 (1,240.00 USD), policy Large order"),
    ({"status": "approved", "decided_by": "U0ANA"}, "Approved by <@U0ANA>: order #1004 (1,240.00 USD), policy Large order"),
    ({"status": "rejected", "decided_by": "U0BEN"}, "Rejected by <@U0BEN>: order #1004"),
    ({"status": "rejected", "decided_by": "holdfast"}, "Rejected on expiry: order #1004"),
    ({"status": "expired", "decided_by": "holdfast"}, "Expired without a decision: order #1004"),
    ({"status": "closed", "decided_by": "holdfast"}, "Closed outside holdfast: order #1004"),
    ({"status": "rejected", "decided_by": "U0BEN", "outcome_state": "failed"}, "; Shopify refused it"),
])
def test_notification_text_follows_the_state(over, text):
    got = text_fallback(view(**over))
    assert text in got
    assert got.startswith("Approval needed") == (over.get("status", "pending") == "pending")


@pytest.mark.parametrize("pol, over, line", [
    (CANCEL_ALL, {"outcome_state": "done"},
     ":white_check_mark: applied in Shopify: order cancelled, items restocked, refund to the original payment"),
    (CANCEL_ONLY, {"outcome_state": "done"}, "applied in Shopify: order cancelled, no refund"),
    (RELEASE, {"outcome_state": "done", "hold_state": "released"}, "applied in Shopify: hold released"),
    (CANCEL_ALL, {"outcome_state": "pending"}, "applying in Shopify…"),
    (KEEP, {}, ":lock: hold kept in Shopify: order #1004 is not fulfilled until someone releases it there"),
    (KEEP, {"hold_state": "failed"}, ":warning: no holdfast hold on order #1004: nothing stops it shipping"),
])
def test_after_a_rejection_the_message_says_what_shopify_did(pol, over, line):
    blocks = build(view(pol, status="rejected", decided_by="U0BEN", decided_at=WHEN, **over))
    assert line in json.dumps(blocks, ensure_ascii=False)
    assert not buttons(blocks)


def test_ship_to_country_is_shown_and_the_shop_only_when_several_are_served():
    one, several = (json.dumps(build(view(show_shop=s))) for s in (False, True))
    assert "*Ships to*\\nNL" in one and "*Ships to*\\nNL" in several
    assert "demo.myshopify.com" in several and "*Shop*" not in one
    assert "no shipping address" in json.dumps(build(view(order={**ORDER, "shipping_country": None})))


@pytest.mark.parametrize("kwargs, said", [
    ({"restock": True, "refund": True, "financial_status": "REFUNDED"},
     "Shopify: order #1004 cancelled, items restocked, payment refunded."),
    ({"restock": False, "refund": True, "financial_status": "VOIDED"},
     "Shopify: order #1004 cancelled, items not restocked, payment voided (it was authorised, never captured)."),
    ({"restock": True, "refund": True, "financial_status": "PAID"}, "no refund shown yet: refund the customer"),
    ({"restock": True, "refund": False, "financial_status": "PAID"}, "items restocked, no refund, as the policy says."),
    ({"restock": None, "refund": None, "financial_status": None}, "Shopify: order #1004 cancelled."),
])
def test_the_thread_says_what_shopify_reports_after_a_cancel(kwargs, said):
    assert said in consequences.cancelled("#1004", **kwargs)


@pytest.mark.parametrize("held, said", [
    (True, "Shopify: order #1004 tagged holdfast-rejected; the hold stays"),
    (False, "holdfast's hold is NOT on it, so nothing stops it shipping"),
])
def test_the_thread_says_the_hold_stays(held, said):
    assert said in consequences.hold_kept("#1004", tag="holdfast-rejected", held=held)


@pytest.mark.parametrize("vote, said", [("reject", "Rejecting cancels order #1004"),
                                        ("approve", "Approving releases the hold")])
def test_the_modal_says_it_too(vote, said):
    got = consequences.of(CANCEL_ALL, ORDER)
    view_ = modal.form(DecisionMeta(request_id=7, version=0, vote=vote), order_name="#1004", summary="1,240.00 USD",
                       specs=list(CANCEL_ALL.fields.reject), consequence=getattr(got, vote))
    assert said in json.dumps(view_) and check_view(view_) == []


def test_the_queue_confirms_with_the_consequence():
    item = queue.QueueItem(id=7, version=0, shop="demo.myshopify.com", order_name="#1004", legacy_id="1004",
                           total="1240", currency="USD", policy_title="Large order", created_at=WHEN,
                           reject_said=consequences.of(CANCEL_ALL, ORDER).reject)
    [_, actions] = [b.to_dict() for b in queue.item_blocks(item, WHEN)]
    confirm = actions["elements"][1]["confirm"]
    assert confirm["text"]["text"].startswith("Rejecting cancels order #1004") and check_message([actions]) == []


@pytest.mark.parametrize("confirm, problem", [
    ({"title": {"type": "plain_text", "text": "t" * 101}, "text": {"type": "plain_text", "text": "x"},
      "confirm": {"type": "plain_text", "text": "Reject"}, "deny": {"type": "plain_text", "text": "Cancel"}},
     "confirm/title/text"),
    ({"title": {"type": "plain_text", "text": "t"}, "text": {"type": "plain_text", "text": "x" * 301},
      "confirm": {"type": "plain_text", "text": "Reject"}, "deny": {"type": "plain_text", "text": "Cancel"}},
     "confirm/text/text"),
    ({"title": {"type": "plain_text", "text": "t"}, "text": {"type": "plain_text", "text": "x"},
      "confirm": {"type": "plain_text", "text": "Reject"}, "deny": {"type": "plain_text", "text": "Cancel"},
      "style": "loud"}, "confirm/style"),
    ({"title": {"type": "plain_text", "text": "t"}, "text": {"type": "plain_text", "text": "x"},
      "confirm": {"type": "plain_text", "text": "Reject"}}, "confirm/deny"),
    ("yes please", "/confirm"),
])
def test_the_sandbox_enforces_the_confirmation_dialogs_limits(confirm, problem):
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Reject"}, "confirm": confirm}
    problems = check_message([{"type": "actions", "elements": [button]}])
    assert any(problem in p for p in problems), problems
