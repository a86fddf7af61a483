"""No token or secret ever reaches the logs: every log record at DEBUG through a full flow (in-process), and the
whole output of `holdfast -v serve` (DEBUG) through a full flow over real processes, are searched for each one."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text as text_sql

from bot.blocks.ids import ActionId
from bot.cli.devstack import DevStack
from sandbox.devserver import BOT_TOKEN, SHOP_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET
from tests.e2e.conftest import STAFF
from tests.reliability.procs import Procs, message_status

SECRETS = {"Slack bot token": BOT_TOKEN, "Slack signing secret": SIGNING_SECRET,
           "Shopify API secret": WEBHOOK_SECRET, "Shopify access token": SHOP_TOKEN}


def leaks(text: str, **more: str) -> list[str]:
    return [name for name, secret in {**SECRETS, **more}.items() if secret in text]


async def test_full_flow_in_process_logs_no_secret_at_debug(database_url, caplog):
    caplog.set_level(logging.DEBUG)  # every logger from start-up on: ours, bolt, slack_sdk, aiohttp, the DB driver
    async with DevStack(database_url=database_url) as stack:
        await flow(stack)
        # The key sealing stored tokens, and a token as stored (sealed), are secrets too.
        key = {"HOLDFAST_SECRET_KEY": stack.secret_key}
        async with stack.rt.sessions() as session:
            sealed = (await session.exec(text_sql("SELECT access_token FROM shop"))).one()[0]
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert any(r.name.startswith("slack_sdk") for r in caplog.records), "Slack client logging was not captured"
    assert len(caplog.records) > 50 and any(r.levelno == logging.DEBUG for r in caplog.records)
    assert leaks(text, **key, sealed=sealed) == [], [line[:300] for line in text.splitlines() if leaks(line, **key)][:5]


async def flow(stack: DevStack) -> None:
    for order_spec, action in ((STAFF, ActionId.APPROVE), (STAFF, ActionId.REJECT)):
        order = await stack.place_order(**order_spec)
        await stack.settle()
        req = await stack.request_for(order)
        status, _ = await stack.decide(req, action, "U0ANA", reason="no budget left")
        assert status == 200
        await stack.settle()
    # A refused request and a failing call log too.
    await stack.sim.post_raw(b"payload=%7B%7D", "application/x-www-form-urlencoded", signature="v0=00")
    stack.slack.faults.add("429", method="chat.postMessage", times=1)
    order = await stack.place_order(**STAFF)
    await stack.settle(timeout=30)
    await stack.click(await stack.request_for(order), ActionId.APPROVE, "U0EVE")  # not an approver: refused
    await stack.settle(timeout=30)


async def test_full_flow_of_real_processes_logs_no_secret_at_debug(database_url, tmp_path):
    procs = Procs(database_url, tmp_path)
    try:
        await procs.start()
        await procs.serve(verbose=True)
        order = await procs.post("/orders", {"customer": {"email": "sam@x.example", "tags": ["staff"]},
                                             "line_items": [{"title": "Mug", "quantity": 1, "price": "12.00"}]})
        assert order["webhook_status"] == 200
        for _ in range(200):
            state = await procs.get("/state")
            if state["messages"]:
                break
            await asyncio.sleep(0.1)
        m = state["messages"][0]
        reply = await procs.post("/decide", {"channel": m["channel"], "ts": m["ts"], "action_id": "request-approve",
                                             "user": "U0ANA"})
        assert reply["status"] == 200
        await procs.settle()
        assert message_status((await procs.get("/state"))["messages"][0]["text"]) == "approved"
    finally:
        await procs.stop()
    log = procs.log("web")
    key = {"HOLDFAST_SECRET_KEY": procs.env["HOLDFAST_SECRET_KEY"]}
    assert "DEBUG" in log and len(log.splitlines()) > 50
    assert leaks(log, **key) == [], [line for line in log.splitlines() if leaks(line, **key)][:5]
