"""The sandbox console (sandbox/console): its page and API answer over HTTP, and in a real headless Chromium an
approver approves an order through its modal and sees the message and the Shopify hold change."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp
import pytest

from bot.blocks.ids import ActionId, BlockId
from sandbox.control_api import make_control_app
from sandbox.devserver import serve
from sandbox.workspace import CHANNEL, SHOP
from tests.e2e.conftest import STAFF

CHROMIUM = Path("/usr/bin/chromium")
# holdfast.example.yml's high-value policy: approving asks "Buyer confirmed the PO" (a required select).
BIG = {"line_items": [{"title": "Mug", "sku": "MUG-1", "quantity": 8, "price": "1550.00"}],
       "customer": {"email": "b@cafe.example", "first_name": "Pat", "last_name": "Buyer", "tags": [], "orders_count": 5},
       "shipping_address": {"country_code": "US", "country": "United States", "province_code": "OR"}}
STATIC = ("console.js", "blockkit.js", "mrkdwn.js", "modal.js", "shopify.js", "console.css")


async def until(predicate, *, what: str, timeout: float = 10.0):
    """Poll until predicate() is truthy; its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := predicate()):
        if loop.time() > deadline:
            raise TimeoutError(f"{what} did not come in {timeout}s")
        await asyncio.sleep(0.02)
    return value


@pytest.fixture
async def console(stack):
    """The control API (the console included) on a free port, against the stack's sandboxes and simulator."""
    runner, port = await serve(make_control_app(stack.shopify, stack.slack, stack.sim))
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_the_page_its_files_and_its_api_answer(stack, console):
    order = await stack.place_order(**STAFF)
    await stack.settle()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{console}/") as resp:  # the control port's root redirects to the console
            assert resp.status == 200 and resp.url.path == "/console" and resp.content_type == "text/html"
        async with http.get(f"{console}/console") as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            assert '<script src="/console/static/console.js"' in await resp.text()
        for name in STATIC:
            async with http.get(f"{console}/console/static/{name}") as resp:
                assert resp.status == 200 and resp.content_type in ("text/javascript", "text/css"), name
        async with http.get(f"{console}/console/static/server.py") as resp:
            assert resp.status == 404  # only the page's own files are served
        async with http.get(f"{console}/console/api/workspace") as resp:
            ws = await resp.json()
        assert {"U0ANA", "U0BEN", "U0EVE"} <= {u["id"] for u in ws["users"] if not u["is_bot"]}
        [channel] = [c for c in ws["channels"] if c["id"] == CHANNEL]
        assert channel["name"] == "order-approvals" and channel["bot_member"]
        holds = list(ws["orders"][order.gid]["holds"].values())
        assert len(holds) == 2 and all(h["reason"] == "OTHER" and h["handle"] == "holdfast-approval"
                                       and "Staff order" in h["reason_notes"] for h in holds)
        assert "/approvals" in [c["command"] for c in ws["commands"]]

        # /approvals queue answers with an ephemeral list; its Approve button works through the console's API.
        async with http.post(f"{console}/commands", json={"command": "/approvals", "text": "queue", "user": "U0ANA",
                                                         "channel": CHANNEL}) as resp:
            assert (await resp.json())["status"] == 200
        req = await stack.request_for(order)
        listed = await until(lambda: [e for e in stack.slack.ephemerals if e["user"] == "U0ANA" and e["blocks"]],
                             what="the queue's ephemeral")
        async with http.post(f"{console}/console/api/ephemerals/{listed[-1]['message_ts']}/actions",
                             json={"action_id": ActionId.APPROVE, "user": "U0ANA",
                                   "block_id": f"{BlockId.QUEUE_ITEM}-{req.id}"}) as resp:
            assert (await resp.json())["status"] == 200
        await stack.settle()
        assert (await stack.request_for(order)).status == "approved"

        # /order-request opens a modal whose product picker is an external_select: the console asks for options.
        poster = stack.shopify.add_product(SHOP, "Poster", variants=[{"sku": "POST-1", "price": "9.00"}])
        async with http.post(f"{console}/commands", json={"command": "/order-request", "text": "", "user": "U0BEN",
                                                         "channel": CHANNEL}) as resp:
            assert (await resp.json())["status"] == 200
        view = await until(lambda: next((v for v in stack.slack.views.values() if v["user"] == "U0BEN" and any(
            b.get("block_id") == "order-item-0" for b in v["blocks"])), None), what="the /order-request form")
        async with http.post(f"{console}/console/api/views/{view['id']}/suggest",
                             json={"action_id": ActionId.ORDER_PRODUCT, "block_id": "order-item-0", "user": "U0BEN",
                                   "value": "poster"}) as resp:
            offered = await resp.json()
        assert offered["status"] == 200 and [o["value"] for o in offered["options"]] == [poster.variants[0].gid]
        assert "SKU POST-1" in offered["options"][0]["text"]["text"]

        async with http.post(f"{console}/console/api/ephemerals/1.000001/actions",
                             json={"action_id": "x", "user": "U0ANA"}) as resp:
            assert resp.status == 404
        async with http.post(f"{console}/console/api/views/VNOSUCH/suggest",
                             json={"action_id": "x", "user": "U0ANA"}) as resp:
            assert resp.status == 404
        async with http.post(f"{console}/console/api/ephemerals/1.000001/actions", json={}) as resp:
            assert resp.status == 400 and "action_id, user required" in (await resp.json())["error"]


def _artifact() -> Path:
    folder = Path(os.environ.get("HOLDFAST_ARTIFACTS_DIR") or "/tmp/holdfast-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "console.png"


async def test_an_approver_approves_through_the_modal_in_a_real_browser(stack, console):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium)")
    pw = pytest.importorskip("playwright.async_api", reason="playwright is not installed: pip install playwright==1.65.3")
    order = await stack.place_order(**BIG)
    await stack.settle()
    req = await stack.request_for(order)
    assert req.policy_id == "high-value" and req.hold_state == "placed"
    # Text that would be markup if the page used innerHTML: it must come out as text, and no script link works.
    tricky = stack.slack.post(CHANNEL, text="tricky", blocks=[{"type": "section", "block_id": "t", "text": {
        "type": "mrkdwn", "text": "&lt;img src=x onerror=alert(1)&gt; *bold* <javascript:alert(1)|click> <@U0BEN>"}}])
    expect = pw.expect
    expect.set_options(timeout=15_000)  # the page polls once a second; two shared CPUs can be slow
    async with pw.async_playwright() as p:
        # --no-sandbox: Chromium refuses to run as root with its sandbox, as in CI containers.
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{console}/console")
            await page.select_option("#user", "U0ANA")
            odd = page.locator(f'.message[data-ts="{tricky.ts}"] .bk-text')
            await expect(odd).to_have_text("<img src=x onerror=alert(1)> bold click @Ben Finance")
            assert await odd.locator("img").count() == 0 and await odd.locator("b").inner_text() == "bold"
            assert await odd.locator("a").get_attribute("href") is None
            message = page.locator(f'.message[data-ts="{req.message_ts}"]')
            await expect(message).to_contain_text(f"Order {order.name} needs approval")
            await expect(page.locator(f'.order[data-order-name="{order.name}"] .fo')).to_have_attribute(
                "data-status", "ON_HOLD")

            await message.locator(f'button[data-action-id="{ActionId.APPROVE}"]').click()
            modal = page.locator("#modal-layer:not([hidden]) #modal")
            await expect(modal).to_contain_text("Buyer confirmed the PO")  # filled in after the loading view
            await page.click("#modal-submit")  # the required field is empty: refused on the page, as Slack does
            await expect(modal.locator(".bk-error")).to_have_text("Please complete this required field.")
            assert await stack.votes(req.id) == []
            await modal.locator('[data-block-id="field-po_confirmed"] select').select_option("yes")
            await modal.locator('[data-block-id="field-note"] textarea').fill("Ship it <today> & *carefully*")
            await page.click("#modal-submit")
            await expect(page.locator("#modal-layer")).to_be_hidden()

            await expect(message).to_contain_text(f"Order {order.name} approved")
            await expect(message).to_contain_text("Approved by @Ana Approver")
            await expect(message.locator(".thread")).to_contain_text("@Ana Approver approved")
            card = page.locator(f'.order[data-order-name="{order.name}"]')
            await expect(card.locator(".fo")).to_have_attribute("data-status", "OPEN")
            await expect(card.locator(".hold")).to_have_count(0)
            await expect(card.locator(".tag")).to_have_text(["approved"])
            shot = _artifact()
            await page.screenshot(path=str(shot), full_page=True)
            print(f"console screenshot: {shot}")
            assert errors == []
        finally:
            await browser.close()
    await stack.settle()
    assert await stack.votes(req.id) == [("U0ANA", "approve")]
    assert [fo.status for fo in stack.shopify.orders[order.gid].fulfillment_orders] == ["OPEN"]
