"""`holdfast demo`: the whole flow against the sandbox, in one process, with no credentials."""

from __future__ import annotations

import logging
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.blocks.ids import ActionId
from bot.cli.devstack import CHANNEL, DevStack
from storage import audit


def _ship_to(city: str, country: str, code: str) -> dict[str, str]:
    return {"address1": "1 High Street", "city": city, "country": country, "country_code": code}


ORDERS = [
    ("a staff order", {
        "line_items": [{"title": "Team hoodie", "sku": "HOOD-M", "quantity": 1, "price": "60.00",
                        "vendor": "Holdfast Co"},
                       {"title": "Enamel mug", "sku": "MUG-1", "quantity": 2, "price": "12.00",
                        "vendor": "Holdfast Co"}],
        "customer": {"email": "sam@holdfast.example", "first_name": "Sam", "last_name": "Staff", "tags": ["staff"]},
        "shipping_address": _ship_to("Leeds", "United Kingdom", "GB"), "fulfillment_orders": 2}),
    ("an influencer sample (100% discount)", {
        "line_items": [{"title": "Starter kit", "sku": "KIT-1", "quantity": 1, "price": "149.00"}],
        "customer": {"email": "ivy@creators.example", "first_name": "Ivy", "last_name": "Influencer", "tags": []},
        "discount_codes": [{"code": "INFLUENCER100", "amount": "149.00", "type": "percentage"}],
        "total_discounts": "149.00", "shipping_address": _ship_to("Lyon", "France", "FR")}),
    ("a large B2B order", {
        "line_items": [{"title": "Espresso machine", "sku": "ESP-PRO", "quantity": 8, "price": "1550.00"}],
        "customer": {"email": "buyer@cafe-chain.example", "first_name": "Bea", "last_name": "Buyer",
                     "tags": ["wholesale"]},
        "shipping_address": _ship_to("Rotterdam", "Netherlands", "NL")}),
    ("an ordinary order", {
        "line_items": [{"title": "Enamel mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}],
        "customer": {"email": "joe@example.com", "first_name": "Joe", "last_name": "Shopper", "tags": []},
        "shipping_address": _ship_to("Leeds", "United Kingdom", "GB")}),
]


_MENTION = re.compile(r"<([@#!]?)([^<>|]+)(?:\|[^<>]*)?>")  # <@U1>, <#C1|name>, <url|label> in mrkdwn text


def _say(text: str = "") -> None:
    print(text, flush=True)


def _indent(text: str) -> str:
    return "\n".join("    │ " + line for line in text.splitlines())


def _namer(stack: DevStack) -> Callable[[str], str]:
    """Slack ids in a text replaced by the names the sandbox's directory has for them (@ana, #order-approvals)."""
    names = {uid: u["name"] for uid, u in stack.slack.users.items()}
    names |= {cid: c["name"] for cid, c in stack.slack.channels.items() if not c.get("is_im")}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\b")
    return lambda text: pattern.sub(lambda m: names[m.group(1)], text)


def _who(stack: DevStack, user: str) -> str:
    return stack.slack.users.get(user, {}).get("real_name") or user


def _shopify_state(stack: DevStack, order) -> str:
    sb = stack.shopify.orders[order.gid]
    fos = ", ".join(f"{fo.gid.rsplit('/', 1)[-1]}: {fo.status}" + (f" (holds: {', '.join(h.handle for h in fo.holds)})"
                                                                    if fo.holds else "")
                    for fo in sb.fulfillment_orders)
    return f"fulfillment orders [{fos}]; tags {sb.tags or '[]'}"


def _try_it(db: Path) -> None:
    url = shlex.quote(f"sqlite+aiosqlite:///{db}")
    _say(f"\nThe demo's database is kept in {db}. Try the audit tools on it:")
    _say(f"  DATABASE_URL={url} holdfast audit verify")
    _say(f"  DATABASE_URL={url} holdfast audit export")
    _say(f"  DATABASE_URL={url} holdfast audit export --events --format jsonl")


async def run_demo(*, verbose: bool = False, keep: str | None = None) -> int:
    """Run the scripted demo; returns the exit code. With `keep`, its SQLite database is made in that directory
    (created if need be) and kept, for `holdfast audit verify` and `holdfast audit export`."""
    quiet = {name: logging.getLogger(name) for name in ("bot.jobs.worker", "bot.features")}
    levels = {name: lg.level for name, lg in quiet.items()}
    if not verbose:  # the narrative says what happens; the worker's and features' INFO lines would repeat it
        quiet["bot.jobs.worker"].setLevel(logging.ERROR)
        quiet["bot.features"].setLevel(logging.WARNING)
    try:
        if keep is None:
            with tempfile.TemporaryDirectory(prefix="holdfast-demo-") as tmp:
                return await _run(Path(tmp) / "holdfast.db", kept=False)
        folder = Path(keep).expanduser().resolve()
        db = folder / "holdfast.db"
        if db.exists():
            print(f"{db} exists already: the demo starts from an empty database, so remove it or give --keep "
                  "another directory.", file=sys.stderr)
            return 2
        folder.mkdir(parents=True, exist_ok=True)
        return await _run(db, kept=True)
    finally:
        for name, lg in quiet.items():
            lg.setLevel(levels[name])


async def _run(db: Path, *, kept: bool) -> int:
    started = time.monotonic()
    async with DevStack(database_url=f"sqlite+aiosqlite:///{db}") as stack:
        named = _namer(stack)
        where = "kept in " + str(db.parent) if kept else "in a temp directory"
        _say(f"holdfast demo: sandbox Shopify and Slack on loopback, the bot on SQLite {where}.")
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

        _say(f"\nWhat the approvers' channel ({named('#' + CHANNEL)}) shows:")
        for label, order in placed:
            req = await stack.request_for(order)
            if req is None:
                _say(f"\n  {order.name} ({label}): no policy matched; nothing held, nothing posted.")
                continue
            _say(f"\n  {order.name} ({label}), flagged by `{req.policy_id}`:")
            _say(_indent(named(stack.slack.render(stack.slack.message(CHANNEL, req.message_ts)))))

        staff, b2b = placed[0][1], placed[2][1]
        _say("\nAna approves the staff order; Ben rejects the B2B order; Eve (not an approver) tries too.")
        for order, action, user in ((staff, ActionId.APPROVE, "U0ANA"), (b2b, ActionId.REJECT, "U0BEN"),
                                    (placed[1][1], ActionId.APPROVE, "U0EVE")):
            req = await stack.request_for(order)
            status, _ = await stack.decide(req, action, user, reason="Buyer has not confirmed the PO yet")
            verb = "Approve" if action == ActionId.APPROVE else "Reject"
            _say(f"  {_who(stack, user)} clicked {verb} on {order.name}: HTTP {status}")
        await stack.settle()
        for e in stack.slack.ephemerals:
            _say(f"  (only {_who(stack, e['user'])} sees) {named(e['text'])}")

        _say("\nThe messages now, and what their threads say:")
        for order in (staff, b2b):
            req = await stack.request_for(order)
            _say(_indent(named(stack.slack.render(stack.slack.message(CHANNEL, req.message_ts)))))
            for reply in (m for m in stack.slack.messages[CHANNEL] if m.thread_ts == req.message_ts):
                said = named(_MENTION.sub(r"\1\2", reply.text)).replace("\n", "\n    │     ")
                _say(f"    │   ↳ {said}")

        _say("\nShopify now:")
        for label, order in placed:
            _say(f"  {order.name} ({label}): {_shopify_state(stack, order)}")

        _say("\nAudit trail:")
        for e in await stack.audit_trail():
            _say(f"  #{e.id:<3} {e.at:%H:%M:%S} {e.kind:<16} {named(e.actor):<9} request {e.request_id}  "
                 f"{e.hash[:12]}")
        async with stack.rt.sessions() as session:
            check = await audit.verify(session)
        dead = await stack.jobs(status="dead")
        _say(f"\naudit chain: {'verified' if check.ok else 'BROKEN'}, {check.count} rows, head {check.head[:16]}…")
        _say(f"done in {time.monotonic() - started:.1f}s.")
        if not check.ok or dead:
            _say(f"demo FAILED: {len(dead)} dead job(s): {[j.last_error for j in dead]}")
            return 1
    if kept:
        _try_it(db)
    return 0


if __name__ == "__main__":
    import asyncio

    sys.exit(asyncio.run(run_demo()))
