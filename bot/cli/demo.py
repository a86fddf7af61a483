"""`holdfast demo`: the whole flow against the sandbox, in one process, with no credentials."""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from storage import audit

ORDERS = [
    ("a staff order", dict(
        line_items=[{"title": "Team hoodie", "sku": "HOOD-M", "quantity": 1, "price": "60.00", "vendor": "Holdfast Co"},
                    {"title": "Enamel mug", "sku": "MUG-1", "quantity": 2, "price": "12.00", "vendor": "Holdfast Co"}],
        customer={"email": "sam@holdfast.example", "first_name": "Sam", "last_name": "Staff", "tags": ["staff"]},
        fulfillment_orders=2)),
    ("an influencer sample (100% discount)", dict(
        line_items=[{"title": "Starter kit", "sku": "KIT-1", "quantity": 1, "price": "149.00"}],
        customer={"email": "ivy@creators.example", "first_name": "Ivy", "last_name": "Influencer", "tags": []},
        discount_codes=[{"code": "INFLUENCER100", "amount": "149.00", "type": "percentage"}], total_discounts="149.00")),
    ("a large B2B order", dict(
        line_items=[{"title": "Espresso machine", "sku": "ESP-PRO", "quantity": 8, "price": "1550.00"}],
        customer={"email": "buyer@cafe-chain.example", "first_name": "Bea", "last_name": "Buyer",
                  "tags": ["wholesale"]})),
    ("an ordinary order", dict(
        line_items=[{"title": "Enamel mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}],
        customer={"email": "joe@example.com", "first_name": "Joe", "last_name": "Shopper", "tags": []})),
]


def _say(text: str = "") -> None:
    print(text, flush=True)


def _indent(text: str) -> str:
    return "\n".join("    │ " + line for line in text.splitlines())


def _shopify_state(stack: DevStack, order) -> str:
    sb = stack.shopify.orders[order.gid]
    fos = ", ".join(f"{fo.gid.rsplit('/', 1)[-1]}: {fo.status}" + (f" (holds: {', '.join(h.handle for h in fo.holds)})"
                                                                    if fo.holds else "")
                    for fo in sb.fulfillment_orders)
    return f"fulfillment orders [{fos}]; tags {sb.tags or '[]'}"


async def run_demo(*, verbose: bool = False) -> int:
    """Run the scripted demo; returns the exit code."""
    started = time.monotonic()
    if not verbose:
        logging.getLogger("bot.jobs.worker").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="holdfast-demo-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'holdfast.db'}"
        async with DevStack(database_url=url) as stack:
            _say("holdfast demo: sandbox Shopify and Slack on loopback, the bot on SQLite in a temp directory.")
            _say(f"  Shopify admin API  http://127.0.0.1:{stack.shopify_port}   Slack Web API  "
                 f"http://127.0.0.1:{stack.slack_port}   bot  {stack.bot_url}")
            _say("  Shopify token: the client credentials grant (SHOPIFY_CLIENT_ID / …_SECRET, your own store), "
                 "fetched on first use and renewed before it expires")
            _say(f"  policies: {', '.join(p.id for p in stack.rt.policies.policies)} (holdfast.example.yml)\n")

            placed = []
            for i, (label, spec) in enumerate(ORDERS, 1):
                order = await stack.place_order(**spec)
                placed.append((label, order))
                _say(f"[{i}/4] Shopify sent orders/create for {label}: {order.name}")
            await stack.settle()

            _say("\nWhat the approvers' channel shows:")
            for label, order in placed:
                req = await stack.request_for(order)
                if req is None:
                    _say(f"\n  {order.name} ({label}): no policy matched; nothing held, nothing posted.")
                    continue
                _say(f"\n  {order.name} ({label}), flagged by `{req.policy_id}`:")
                _say(_indent(stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))))

            staff, b2b = placed[0][1], placed[2][1]
            _say("\nAna approves the staff order; Ben rejects the B2B order; Eve (not an approver) tries too.")
            for order, action, user in ((staff, ActionId.APPROVE, "U0ANA"), (b2b, ActionId.REJECT, "U0BEN"),
                                        (placed[1][1], ActionId.APPROVE, "U0EVE")):
                req = await stack.request_for(order)
                status, _ = await stack.decide(req, action, user, reason="Buyer has not confirmed the PO yet")
                _say(f"  {user} clicked {action.value} on {order.name}: HTTP {status}")
            await stack.settle()
            for e in stack.slack.ephemerals:
                _say(f"  (only {e['user']} sees) {e['text']}")

            _say("\nThe messages now:")
            for order in (staff, b2b):
                req = await stack.request_for(order)
                _say(_indent(stack.slack.render(stack.slack.message(CHANNEL, req.message_ts))))

            _say("\nShopify now:")
            for label, order in placed:
                _say(f"  {order.name} ({label}): {_shopify_state(stack, order)}")

            _say("\nAudit trail:")
            for e in await stack.audit_trail():
                _say(f"  #{e.id:<3} {e.at:%H:%M:%S} {e.kind:<16} {e.actor:<9} request {e.request_id}  "
                     f"{e.hash[:12]}")
            async with stack.rt.sessions() as session:
                check = await audit.verify(session)
            dead = await stack.jobs(status="dead")
            _say(f"\naudit chain: {'verified' if check.ok else 'BROKEN'}, {check.count} rows, head {check.head[:16]}…")
            _say(f"done in {time.monotonic() - started:.1f}s.")
            if not check.ok or dead:
                _say(f"demo FAILED: {len(dead)} dead job(s): {[j.last_error for j in dead]}")
                return 1
    return 0


if __name__ == "__main__":
    import asyncio

    sys.exit(asyncio.run(run_demo()))
