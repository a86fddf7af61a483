"""The privacy webhooks end to end: signed deliveries from sandbox Shopify, the job, Slack, the database, and the
audit chain still verifying afterwards (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance)."""

from __future__ import annotations

import json

import aiohttp
import pytest
from sqlalchemy import func, text
from sqlmodel import select

from bot.approvals.policies import load_text
from bot.blocks.ids import ActionId
from bot.cli.devstack import SHOP, DevStack
from sandbox.devserver import WEBHOOK_SECRET
from sandbox.webhooks import send_shopify_webhook, shopify_webhook_headers, webhook_body_bytes
from storage import audit
from storage.models import ApprovalRequest, AuditEvent, Decision, Job, RequestCopy, WebhookReceipt
from tests.e2e import approvals_helpers
from tests.e2e.test_audit_cli import cli

# The /approvals tests' policies (managers U0MAX, and U0GIL through S0MGRS), staff orders asking for a note.
NOTE = "    fields: {approve: [{id: note, label: Note, type: text, required: false}], reject: []}\n"
POLICIES = approvals_helpers.POLICIES.replace("    fields: {reject: []}\n", NOTE, 1)
SAM = dict(line_items=[{"title": "Hoodie", "sku": "HOOD-M", "quantity": 1, "price": "60.00"}],
           customer={"email": "sam.staff@example.com", "first_name": "Samwise", "last_name": "Gamgee",
                     "phone": "+15550101", "tags": ["staff"]})
BEA = dict(line_items=[{"title": "Mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}],
           customer={"email": "bea@example.com", "first_name": "Beatrix", "last_name": "Other", "tags": ["staff"]})
SAM_TRACES = ("sam.staff@example.com", "Samwise", "Gamgee", "+15550101", "Bag End")


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url, policies=load_text(POLICIES)) as s:
        s.slack.add_user("U0MAX", name="max", real_name="Max Manager")
        s.slack.add_user("U0GIL", name="gil", real_name="Gil Groupmanager")
        s.slack.add_usergroup("S0MGRS", ["U0GIL"])
        yield s


async def world(stack: DevStack):
    """Sam's two flagged orders (one approved with a note naming him, shipped to his address) and one he placed
    unflagged; Bea's flagged order."""
    sam = [await stack.place_order(**SAM, shipping_address={"address1": "Bag End", "city": "Hobbiton",
                                                            "country_code": "GB"}) for _ in range(2)]
    bea = await stack.place_order(**BEA)
    await stack.settle()
    first = await stack.request_for(sam[0])
    await stack.decide(first, ActionId.APPROVE, "U0ANA", note="Samwise Gamgee called, ok to ship")
    unflagged = await stack.place_order(**{**SAM, "customer": {**SAM["customer"], "tags": []}})
    await stack.settle()
    return sam, bea, unflagged


def subject(order) -> dict:
    c = order.customer
    return {"id": c.legacy_id, "email": c.email, "phone": c.phone}


async def deliver(stack: DevStack, topic: str, body: dict) -> int:
    status = await stack.shopify.deliver_webhook(SHOP, topic, {"shop_id": 1, "shop_domain": SHOP, **body})
    await stack.settle()
    return status


async def rows(stack: DevStack, model) -> list:
    async with stack.rt.sessions() as session:
        return list((await session.exec(select(model))).all())


async def verified(stack: DevStack) -> audit.Verification:
    async with stack.rt.sessions() as session:
        return await audit.verify(session)


async def everything_stored(stack: DevStack) -> str:
    """Every row of every table holdfast writes customer data to, as text."""
    out = []
    for model in (ApprovalRequest, Decision, Job, AuditEvent):
        out += [r.model_dump_json() for r in await rows(stack, model)]
    return "\n".join(out)


async def test_a_data_request_sends_the_customers_data_to_each_manager_as_a_file(stack):
    sam, bea, unflagged = await world(stack)
    status = await deliver(stack, "customers/data_request", {
        "customer": subject(sam[0]), "orders_requested": [sam[0].legacy_id], "data_request": {"id": 9999}})
    assert status == 200
    sam_ids = sorted([(await stack.request_for(o)).id for o in sam])
    for manager in ("U0MAX", "U0GIL"):  # by id, and through the managers' user group
        channel, _ = stack.slack.open_dm(manager)
        [shared] = [f for f in stack.slack.files if f["channel_id"] == channel]
        assert shared["filename"] == "holdfast-data-request-9999.json"
        doc = json.loads(shared["content"])
        assert doc["data_request"] == "9999" and doc["shop"] == SHOP
        assert sorted(r["id"] for r in doc["requests"]) == sam_ids  # Bea's is not his
        assert {r["order_snapshot"]["customer_email"] for r in doc["requests"]} == {"sam.staff@example.com"}
        approved = next(r for r in doc["requests"] if r["status"] == "approved")
        assert approved["votes"][0]["fields"] == {"note": "Samwise Gamgee called, ok to ship"}
        assert any(e["kind"] == "request.created" and e["personal"]["reasons"] for e in approved["audit"])
        # Every stored webhook of his orders, the unflagged one too (found by his customer id in the body).
        assert sorted(w["order"]["id"] for w in doc["order_webhooks"]) == sorted(
            o.legacy_id for o in (*sam, unflagged))
        assert "bea@example.com" not in shared["content"].decode()
    sent = [e for e in await stack.audit_trail() if e.kind == "privacy.data_request"]
    assert sorted(e.data["sent_to"] for e in sent) == ["U0GIL", "U0MAX"]
    assert all(e.data["requests"] == sam_ids and "sam.staff" not in json.dumps(e.data) for e in sent)
    [job] = [j for j in await rows(stack, Job) if j.kind == "privacy.request"]
    assert job.status == "done" and job.payload["scrubbed"] and "sam.staff" not in json.dumps(job.payload)
    assert (await verified(stack)).ok


async def test_a_customer_redaction_erases_him_everywhere_and_the_chain_still_verifies(stack):
    sam, bea, unflagged = await world(stack)
    before = await verified(stack)
    assert before.ok and before.erased == 0
    stored = await everything_stored(stack)
    assert all(t in stored for t in SAM_TRACES)  # each trace is there before (else its absence proves nothing)
    status = await deliver(stack, "customers/redact", {
        "customer": subject(sam[0]), "orders_to_redact": [o.legacy_id for o in (*sam, unflagged)]})
    assert status == 200

    stored = await everything_stored(stack)
    assert not [t for t in SAM_TRACES if t in stored]  # not in requests, votes, jobs nor audit rows
    assert "bea@example.com" in stored and "Beatrix" in stored  # another customer is untouched
    for order in sam:
        req = await stack.request_for(order)
        assert req.order_snapshot["customer_name"] is None and req.order_snapshot["customer_email"] is None
        assert req.order_snapshot["total_price"] == "60.00" and req.order_name == order.name  # the order stays
        shown = stack.slack.message(req.channel, req.message_ts)
        assert "Samwise" not in shown.text + json.dumps(shown.blocks)  # the message was redrawn without him
    [redacted] = [e for e in await stack.audit_trail() if e.kind == "privacy.customer_redacted"]
    assert redacted.personal is None and redacted.data["audit_rows"] > 0 and redacted.data["order_webhooks"] == 3
    assert sorted(redacted.data["requests"]) == sorted([(await stack.request_for(o)).id for o in sam])

    after = await verified(stack)  # what `holdfast audit verify` runs
    assert after.ok and after.count == before.count + 1 and after.erased == redacted.data["audit_rows"]
    erased = [e for e in await stack.audit_trail() if e.personal is None and e.personal_digest]
    assert {e.kind for e in erased} >= {"request.created", "request.approved"}

    code, out, _ = await cli(stack.database_url, "audit", "verify")  # the command itself, as a process
    assert code == 0 and out.splitlines() == [
        f"ok: {after.count} audit rows, head hash {after.head}",
        f"{after.erased} of them had their personal data erased; their digests verify in its place"]

    # Tamper-evidence survives erasure: an edit anywhere, an erased row's digest included, is still found.
    victim = erased[0]
    async with stack.rt.sessions() as session:
        await session.exec(text("UPDATE audit_event SET personal_digest = :d WHERE id = :id")
                           .bindparams(d="0" * 64, id=victim.id))
        await session.commit()
    broken = await verified(stack)
    assert not broken.ok and broken.broken_id == victim.id and "edited" in broken.problem


async def test_a_shop_redaction_removes_the_shops_data_and_keeps_the_chain(stack):
    await world(stack)
    audited = len(await stack.audit_trail())
    assert await rows(stack, ApprovalRequest) and await rows(stack, Decision)
    assert await deliver(stack, "shop/redact", {}) == 200

    for model in (ApprovalRequest, Decision, RequestCopy):
        assert await rows(stack, model) == []
    # Left: the redaction's own job, and jobs about no shop (a user's App Home, drawn from what is left).
    left = [j for j in await rows(stack, Job) if j.kind != "privacy.request"]
    assert all(SHOP not in j.key + json.dumps(j.payload) and "request_id" not in j.payload for j in left)
    assert {r.topic for r in await rows(stack, WebhookReceipt)} == {"shop/redact"}
    trail = await stack.audit_trail()
    assert len(trail) == audited + 1 and trail[-1].kind == "privacy.shop_redacted"
    assert trail[-1].data["requests"] == 3 and trail[-1].data["audit_rows"] > 0
    assert all(e.personal is None for e in trail)  # the rows stay, as the chain, without personal data
    assert not [t for t in SAM_TRACES if t in await everything_stored(stack)]
    result = await verified(stack)
    assert result.ok and result.count == audited + 1 and result.erased == trail[-1].data["audit_rows"]


async def stored_counts(stack: DevStack) -> tuple[int, int]:
    async with stack.rt.sessions() as session:
        receipts = (await session.exec(select(func.count()).select_from(WebhookReceipt))).one()
        jobs = (await session.exec(select(func.count()).select_from(Job))).one()
    return receipts, jobs


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact", "shop/redact"])
async def test_a_bad_hmac_is_a_401_and_nothing_is_stored(stack, topic):
    before = await stored_counts(stack)
    status = await send_shopify_webhook(
        f"{stack.bot_url}/shopify/webhooks", topic=topic, shop=SHOP, secret=WEBHOOK_SECRET + "-wrong",
        body={"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 1, "email": "x@example.com"}},
        api_version="2026-10")
    assert status == 401
    assert await stored_counts(stack) == before


@pytest.mark.parametrize("topic,body,reason", [
    ("customers/redact", {"shop_domain": SHOP}, "`customer` object"),
    ("customers/redact", {"shop_domain": SHOP, "customer": {"phone": "+1555"}}, "by `customer.id` or"),
    ("customers/redact", {"shop_domain": SHOP, "customer": {"id": "x1"}}, "`customer.id` must be"),
    ("customers/data_request", {"shop_domain": SHOP, "customer": {"id": 5}, "orders_requested": "1,2"},
     "`orders_requested` must be a list"),
    ("customers/data_request", {"shop_domain": "other.myshopify.com", "customer": {"id": 5}}, "`shop_domain`"),
    ("shop/redact", [SHOP], "JSON object"),
])
async def test_a_malformed_body_is_a_400_with_the_reason_and_nothing_is_stored(stack, topic, body, reason):
    before = await stored_counts(stack)
    url = f"{stack.bot_url}/shopify/webhooks"
    raw = webhook_body_bytes(body)
    headers = shopify_webhook_headers(topic=topic, shop=SHOP, secret=WEBHOOK_SECRET, body=raw, api_version="2026-10")
    async with aiohttp.ClientSession() as http, http.post(url, data=raw, headers=headers) as response:
        assert response.status == 400
        assert reason in (await response.json())["error"]
    assert await stored_counts(stack) == before


async def test_a_data_request_with_no_manager_to_send_it_to_is_a_dead_job_that_says_what_to_do(database_url):
    policies = load_text(POLICIES.replace("roles:\n  managers:\n    users: [U0MAX]\n    groups: [S0MGRS]\n", ""))
    async with DevStack(database_url=database_url, policies=policies) as stack:
        status = await deliver(stack, "customers/data_request", {"customer": {"id": 7, "email": "a@example.com"},
                                                                  "orders_requested": [], "data_request": {"id": 1}})
        assert status == 200
        [job] = await stack.jobs(status="dead")
        assert "roles.managers" in job.last_error and f"holdfast jobs retry {job.id}" in job.last_error
        assert job.payload["body"]["customer"]["id"] == 7  # kept for the retry
        assert [e.kind for e in await stack.audit_trail()] == ["job.dead"]
        assert stack.slack.files == []
