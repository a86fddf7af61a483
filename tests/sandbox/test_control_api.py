"""The sandbox's control API (sandbox/control_api.py, control_slack.py) over HTTP, against a running bot: slash
commands, App Home, open modals and their submission, the refusals, B2B orders, and `holdfast sandbox send`."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from graphql import parse, validate

from bot.blocks.ids import ActionId, BlockId
from bot.cli import send as send_cli
from bot.cli.devstack import CHANNEL, SHOP, DevStack
from sandbox import workspace
from sandbox.control_api import ORDER_FIELDS, make_control_app
from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]
MUG = {"title": "Mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}
STAFF = {"line_items": [MUG], "customer": {"email": "sam@staff.example", "tags": ["staff"]}}
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.fixture
async def stack(database_url):
    async with DevStack(database_url=database_url) as s:  # holdfast.example.yml's policies
        yield s


@pytest.fixture
async def control(stack):
    async with TestClient(TestServer(make_control_app(stack.shopify, stack.slack, stack.sim))) as client:
        yield client


async def answer(reply: aiohttp.ClientResponse) -> tuple[int, dict]:
    return reply.status, await reply.json()


async def until(predicate, what: str, timeout: float = 10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := await predicate()):
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not seen in {timeout}s")
        await asyncio.sleep(0.05)
    return value


# --- refusals ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/orders", "/orders/bulk", "/click", "/decide", "/commands", "/home", "/faults",
                                  "/webhooks/redeliver", "/views/V0NONE/submit"])
async def test_a_body_that_is_not_json_is_a_400_on_every_endpoint(control, path):
    status, body = await answer(await control.post(path, data=b"{not json"))
    assert status == 400 and "not JSON" in body["error"]
    status, body = await answer(await control.post(path, data=b"[1, 2]"))
    assert status in (400, 404) and "error" in body


async def test_an_unknown_order_field_is_a_400_naming_the_accepted_ones(control, stack):
    status, body = await answer(await control.post("/orders", json={**STAFF, "colour": "red"}))
    assert status == 400 and "['colour']" in body["error"]
    assert "line_items" in body["error"] and "payment_terms" in body["error"] and "company" in body["error"]
    status, body = await answer(await control.post("/orders/bulk", json={"count": 2, "spec": {**STAFF, "size": 1}}))
    assert status == 400 and "['size']" in body["error"]
    status, body = await answer(await control.post("/orders", json={"line_items": [MUG], "payment_terms": "Net 99"}))
    assert status == 400 and "Net 99" in body["error"]
    assert not stack.shopify.orders  # nothing was half made
    assert set(ORDER_FIELDS) >= {"line_items", "company", "company_location", "payment_terms", "shop"}


# --- Slack: messages, slash commands, modals, App Home -------------------------------------------------------
async def test_messages_carry_raw_blocks_and_threads(control, stack):
    status, placed = await answer(await control.post("/orders", json=STAFF))
    assert status == 200 and placed["webhook_status"] == 200
    await stack.settle()
    _, listed = await answer(await control.get("/messages"))
    [request] = [m for m in listed["messages"] if m["thread_ts"] is None and placed["name"] in m["text"]]
    assert any(b["type"] == "actions" for b in request["blocks"])  # what a console draws the buttons from
    replies = [m for m in listed["messages"] if m["thread_ts"] == request["ts"] and m["ts"] != request["ts"]]
    assert request["replies"] == [m["ts"] for m in replies]
    status, clicked = await answer(await control.post("/click", json={"channel": CHANNEL, "ts": request["ts"],
                                                                       "action_id": ActionId.APPROVE, "user": "U0ANA"}))
    assert status == 200 and clicked["status"] == 200


async def test_a_slash_command_opens_a_modal_that_is_listed_and_submitted_in_plain_values(control, stack):
    mug = stack.shopify.add_product(SHOP, "Mug", variants=[{"sku": "MUG-1", "price": "12.00",
                                                           "inventory_quantity": 40}]).variants[0]
    status, ran = await answer(await control.post("/commands", json={"command": "/order-request", "text": "",
                                                                     "user": "U0ANA", "channel": CHANNEL}))
    assert status == 200 and ran["status"] == 200

    async def modal():
        return [v for v in (await (await control.get("/views")).json())["views"] if v["user"] == "U0ANA"]

    [view] = await until(modal, "the order request modal")
    assert view["type"] == "modal" and view["callback_id"] and view["title"] and view["private_metadata"]
    values = {"order-item-0": mug.gid, "order-qty-0": 2, "order-address": "HQ", "department": "Marketing",
              "cost_centre": "CC-7", "reason": "trade fair"}
    # A date in the past: the bot's response_action errors come back as "errors", and the modal stays open.
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    status, refused = await answer(await control.post(f"/views/{view['id']}/submit", json={
        "user": "U0ANA", "values": {**values, "order-deliver-by": yesterday}}))
    assert status == 200 and refused["status"] == 200
    assert refused["errors"] == {"order-deliver-by": "That date is in the past."}
    assert [v["id"] for v in await modal()] == [view["id"]]
    status, done = await answer(await control.post(f"/views/{view['id']}/submit", json={
        "user": "U0ANA", "values": {**values, "order-deliver-by": TOMORROW}}))
    assert status == 200 and done["status"] == 200 and "errors" not in done
    assert await modal() == []  # submitted: Slack closed it
    await stack.settle()
    [draft] = stack.shopify.draft_orders.values()
    assert [(li.sku, li.quantity) for li in draft.line_items] == [("MUG-1", 2)]


async def test_submitting_values_the_modal_has_no_input_for_is_a_400(control, stack):
    await control.post("/commands", json={"command": "/order-request", "user": "U0ANA"})

    async def modal():
        return (await (await control.get("/views?user=U0ANA")).json())["views"]

    [view] = await until(modal, "the order request modal")
    status, body = await answer(await control.post(f"/views/{view['id']}/submit",
                                                   json={"user": "U0ANA", "values": {"colour": "red"}}))
    assert status == 400 and "colour" in body["error"] and "order-deliver-by" in body["error"]
    status, body = await answer(await control.post(f"/views/{view['id']}/submit", json={
        "user": "U0ANA", "values": {"order-address": "Mars"}}))
    assert status == 400 and "Mars" in body["error"]
    status, body = await answer(await control.post("/views/V0NONE/submit", json={"user": "U0ANA"}))
    assert status == 404
    status, body = await answer(await control.post("/commands", json={"command": "/order-request", "user": "U0NOBODY"}))
    assert status == 400 and "U0NOBODY" in body["error"]


async def test_app_home_is_opened_read_and_its_buttons_clicked(control, stack):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    status, opened = await answer(await control.post("/home", json={"user": "U0ANA"}))
    assert status == 200 and opened["status"] == 200
    home = opened["view"]
    assert home["type"] == "home" and order.name in json.dumps(home["blocks"])
    _, read = await answer(await control.get("/home/U0ANA"))
    assert read["view"]["id"] == home["id"]
    assert (await (await control.get("/home/U0EVE")).json()) == {"view": None}
    status, clicked = await answer(await control.post(f"/views/{home['id']}/actions", json={
        "action_id": ActionId.APPROVE, "block_id": f"{BlockId.QUEUE_ITEM}-{req.id}", "user": "U0ANA"}))
    assert status == 200 and clicked["status"] == 200
    await stack.settle()
    assert (await stack.request_for(order)).status == "approved"
    status, body = await answer(await control.post(f"/views/{home['id']}/actions", json={
        "action_id": "no-such-action", "user": "U0ANA"}))
    assert status == 400 and "no-such-action" in body["error"]


# --- B2B orders ----------------------------------------------------------------------------------------------
B2B_QUERY = """
query B2B($id: ID!) {
  order(id: $id) {
    paymentTerms { paymentTermsName paymentTermsType dueInDays translatedName overdue }
    purchasingEntity {
      __typename
      ... on PurchasingCompany {
        company { id name }
        location { id name }
        contact { id isMainContact customer { id } }
      }
    }
  }
}"""


async def test_a_b2b_order_on_payment_terms_shows_in_graphql_and_in_its_webhook(control, stack, shopify_schema):
    assert validate(shopify_schema, parse(B2B_QUERY)) == []  # only fields Shopify's 2026-10 schema has
    status, placed = await answer(await control.post("/orders", json={
        "line_items": [{**MUG, "quantity": 2, "price": "1200.00"}], "customer": {"email": "buyer@cafe.example"},
        "company": "Cafe Chain Ltd", "company_location": "Cafe Chain Portland", "payment_terms": "Net 30",
        "financial_status": "pending"}))
    assert status == 200 and placed["webhook_status"] == 200
    order = stack.shopify.orders[placed["gid"]]
    url = f"http://127.0.0.1:{stack.shopify_port}/{SHOP}/admin/api/2026-10/graphql.json"
    async with aiohttp.ClientSession() as http, http.post(url, json={"query": B2B_QUERY, "variables": {
            "id": order.gid}}, headers={"X-Shopify-Access-Token": workspace.SHOP_TOKEN}) as reply:
        data = await reply.json()
    # holdfast's app has no `read_payment_terms`: Shopify denies that one field and serves the rest
    # (sandbox/shopify/access.py), which is why holdfast reads the terms from the webhook body.
    assert [e["extensions"]["code"] for e in data["errors"]] == ["ACCESS_DENIED"], data
    assert "read_payment_terms" in data["errors"][0]["message"] and data["errors"][0]["path"][-1] == "paymentTerms"
    node = data["data"]["order"]
    assert node["paymentTerms"] is None
    assert order.payment_terms == {"name": "Net 30", "type": "NET", "due_in_days": 30}
    entity = node["purchasingEntity"]
    assert entity["__typename"] == "PurchasingCompany" and entity["company"]["name"] == "Cafe Chain Ltd"
    assert entity["location"]["name"] == "Cafe Chain Portland"
    assert entity["contact"]["isMainContact"] and entity["contact"]["customer"]["id"] == order.customer.gid
    body = stack.shopify.webhook_deliveries[-1].body
    assert body["payment_terms"] == {"payment_terms_name": "Net 30", "payment_terms_type": "NET", "due_in_days": 30}
    assert body["company"]["id"] == int(entity["company"]["id"].rsplit("/", 1)[1])
    assert body["company"]["location_id"] == int(entity["location"]["id"].rsplit("/", 1)[1])
    await stack.settle()  # holdfast's own facts: B2B (from purchasingEntity) and the terms (from the webhook)
    req = await stack.request_for(order)
    assert req.policy_id == "b2b-net-terms" and "payment terms `Net 30`" in " ".join(req.reasons)
    # The example policy's finance group exists in the sandbox workspace, so its approvers resolve.
    assert stack.slack.usergroups["S0FINANCE"] and "could not be resolved" not in json.dumps(
        [stack.slack.render(m) for m in stack.slack.messages[CHANNEL]])


# --- holdfast sandbox send -----------------------------------------------------------------------------------
async def run_send(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "sandbox", "send", *args, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_sandbox_send_signs_a_real_sample_and_the_running_bot_accepts_it(stack, tmp_path):
    sample = shared_file("shopify", "webhooks", "orders_create.shopify-docs-2026-07.json")
    url = f"{stack.bot_url}/shopify/webhooks"
    code, out, err = await run_send(str(sample), "--url", url)
    assert code == 0, err
    assert out.startswith(f"POST {url} (orders/create from {SHOP}, {len(sample.read_bytes())} bytes") and ": 200" in out
    # Signed with another secret, the same bytes are refused: the 200 above was holdfast's verification passing.
    code, out, err = await run_send(str(sample), "--url", url, "--secret", "not-the-app-secret")
    assert code == 1 and ": 401" in out
    code, out, err = await run_send(str(tmp_path / "missing.json"), "--url", url)
    assert code == 2 and "cannot read" in err
    await stack.stop_bot()
    code, out, err = await run_send(str(sample), "--url", url)
    assert code == 1 and "nothing answered" in err and "Traceback" not in err


def test_sandbox_send_defaults_are_the_sandboxes_and_plain_sandbox_still_runs_the_stand_ins():
    from bot.cli.main import parser

    assert (send_cli.SANDBOX_SHOP, send_cli.SANDBOX_SECRET) == (workspace.SHOP, workspace.WEBHOOK_SECRET)
    args = parser().parse_args(["sandbox", "send", "body.json"])
    assert args.func is send_cli.cmd_send and args.topic == "orders/create" and args.shop == workspace.SHOP
    assert parser().parse_args(["sandbox", "--control-port", "9000"]).func.__name__ == "cmd_sandbox"
