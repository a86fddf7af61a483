"""Routes of the sandbox console: the page and its static files, plus the few reads and actions the control API
does not offer (who is in the workspace, hold reasons, ephemeral buttons, external-select options)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from aiohttp import web

from sandbox.control_errors import BadRequest, body_of
from sandbox.control_slack import NOT_DELIVERED

if TYPE_CHECKING:
    from sandbox.shopify import ShopifySandbox
    from sandbox.simulator import SlackSimulator
    from sandbox.slack import SlackSandbox

HERE = Path(__file__).resolve().parent
MANIFEST = HERE.parents[1] / "manifest.yml"
# Only these files are served: the directory also holds this module, which the page has no business reading.
STATIC = {"console.css": "text/css", "blockkit.js": "text/javascript", "mrkdwn.js": "text/javascript",
          "console.js": "text/javascript", "shopify.js": "text/javascript",
          "modal.js": "text/javascript"}
PATH = "/console"


def slash_commands(*, manifest: Path = MANIFEST) -> list[dict[str, str]]:
    """The app's slash commands as manifest.yml declares them (the page offers them in its command box)."""
    try:
        data = yaml.safe_load(manifest.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return []
    commands = ((data.get("features") or {}).get("slash_commands")) or []
    return [{"command": c.get("command", ""), "usage_hint": c.get("usage_hint", ""),
             "description": c.get("description", "")} for c in commands if isinstance(c, dict)]


def _order_details(order: Any) -> dict[str, Any]:
    """What the console shows of an order beyond GET /state: totals, customer, and each hold's reason."""
    customer = order.customer
    who = " ".join(p for p in (customer.first_name, customer.last_name) if p) if customer else ""
    return {
        "name": order.name, "total": str(order.total), "currency": order.currency,
        "customer": who, "email": order.email or (customer.email if customer else None),
        "financial_status": order.financial_status, "fulfillment_status": order.fulfillment_status(),
        "cancelled": order.cancelled_at is not None, "cancel_reason": order.cancel_reason, "note": order.note,
        "created_at": order.created_at.isoformat(),
        "line_items": [{"title": li.title, "quantity": li.quantity, "price": str(li.price)} for li in order.line_items],
        "holds": {h.gid: {"handle": h.handle, "reason": h.reason, "reason_notes": h.reason_notes, "app": h.app}
                  for fo in order.fulfillment_orders for h in fo.holds},
    }


def workspace(*, shopify: ShopifySandbox, slack: SlackSandbox) -> dict[str, Any]:
    """The sandbox Slack's directory (for names and the user picker), its open modals and ephemerals, and order
    details, read straight from the sandboxes' records."""
    users = [{"id": u["id"], "name": u["name"], "real_name": u["real_name"], "is_bot": u["is_bot"]}
             for u in slack.users.values() if not u.get("deleted")]
    channels = [{"id": c["id"], "name": c.get("name"), "is_im": c["is_im"], "user": c.get("user"),
                 "bot_member": slack.is_member(c["id"])} for c in slack.channels.values()]
    return {
        "team": {"id": slack.team_id, "domain": slack.team_domain}, "bot_user": slack.bot_user_id,
        "users": users, "channels": channels,
        # The open modals' submit and close labels (GET /views leaves them out).
        "view_buttons": {vid: {"submit": slack.views[vid].get("submit"), "close": slack.views[vid].get("close")}
                         for stack in slack.view_stacks.values() for vid in stack if vid in slack.views},
        "ephemerals": [{k: e.get(k) for k in ("channel", "user", "text", "blocks", "thread_ts", "message_ts")}
                       for e in slack.ephemerals],
        "orders": {gid: _order_details(o) for gid, o in shopify.orders.items()},
        # /order-request's draft orders: what the requester asked for, and the order it became once approved.
        "drafts": [{"name": d.name, "status": d.status, "total": str(d.total), "currency": d.currency,
                    "tags": d.tags, "order": d.order.name if d.order else None,
                    "line_items": [{"title": li.title, "quantity": li.quantity} for li in d.line_items]}
                   for d in shopify.draft_orders.values()],
        "commands": slash_commands(),
    }


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _fields(request: web.Request, *names: str) -> dict[str, Any]:
    """The JSON body, refused (400, one sentence) when it lacks one of `names`."""
    body = await body_of(request)
    if missing := [n for n in names if not body.get(n)]:
        raise BadRequest(f"{', '.join(missing)} required (send {{{', '.join(repr(n) for n in names)}: ...}})")
    return body


def add_console(app: web.Application, *, shopify: ShopifySandbox, slack: SlackSandbox, sim: SlackSimulator) -> None:
    """Serve the console at /console on `app` (the control API), with its own reads under /console/api/."""

    async def page(_: web.Request) -> web.Response:
        return web.FileResponse(HERE / "index.html", headers={"Cache-Control": "no-store"})

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            return _bad("no such file", 404)
        return web.FileResponse(HERE / name, headers={"Content-Type": STATIC[name], "Cache-Control": "no-store"})

    async def read_workspace(_: web.Request) -> web.Response:
        return web.json_response(workspace(shopify=shopify, slack=slack))

    async def ephemeral_action(request: web.Request) -> web.Response:
        """{"action_id", "user", "block_id"?, "value"?}: click a button of the ephemeral at message_ts."""
        p = await _fields(request, "action_id", "user")
        ts = request.match_info["message_ts"]
        ephemeral = next((e for e in slack.ephemerals if e.get("message_ts") == ts), None)
        if ephemeral is None:
            return _bad("no such ephemeral message", 404)
        return await _deliver(sim.click_ephemeral(ephemeral, p["action_id"], p["user"], p.get("value"),
                                                  block_id=p.get("block_id")))

    async def suggest(request: web.Request) -> web.Response:
        """{"action_id", "user", "value", "block_id"?}: what the bot offers for an external_select's typed text."""
        p = await _fields(request, "action_id", "user")
        view_id = request.match_info["view_id"]
        if view_id not in slack.views:
            return _bad("no such view", 404)
        return await _deliver(sim.suggest(view_id, p["action_id"], p["user"], str(p.get("value") or ""),
                                          block_id=p.get("block_id")))

    async def root(_: web.Request) -> web.Response:
        raise web.HTTPFound(PATH)  # the control port's own address opens the console in a browser

    app.router.add_get("/", root)
    app.router.add_get(PATH, page)
    app.router.add_get(PATH + "/", page)
    app.router.add_get(PATH + "/static/{name}", static)
    app.router.add_get(PATH + "/api/workspace", read_workspace)
    app.router.add_post(PATH + "/api/ephemerals/{message_ts}/actions", ephemeral_action)
    app.router.add_post(PATH + "/api/views/{view_id}/suggest", suggest)


async def _deliver(call: Any) -> web.Response:
    """Await a simulator call: the bot's (status, body), with options parsed when the body is an options list."""
    try:
        status, body = await call
    except (KeyError, LookupError, ValueError) as exc:
        return _bad(f"cannot do that: {exc}")
    except NOT_DELIVERED as exc:  # the bot is down: nothing was acknowledged
        return web.json_response({"status": 0, "body": f"not delivered: {type(exc).__name__}"})
    out: dict[str, Any] = {"status": status, "body": body}
    try:
        parsed = json.loads(body) if body.strip() else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and ("options" in parsed or "option_groups" in parsed):
        out["options"] = parsed.get("options") or [o for g in parsed.get("option_groups", [])
                                                   for o in g.get("options", [])]
    return web.json_response(out)
