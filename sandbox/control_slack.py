"""The control API's Slack half: everything a person does in Slack, as JSON endpoints (a browser console or curl).

- GET /messages: every channel message (text, raw blocks, thread) and every ephemeral
- POST /click, /decide: a message button; a decision through its modal
- POST /commands: a slash command; POST /home: open App Home; GET /home/{user}: the published Home view
- GET /views: open modals; POST /views/{id}/submit, /views/{id}/actions: submit one, click inside one
Each answer carries the bot's HTTP status and body (status 0: the bot is down, nothing was acknowledged).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.control_errors import BadRequest, body_of
from sandbox.simulator import SlackSimulator
from sandbox.slack import SlackSandbox
from sandbox.slack.views import view_api
from sandbox.workspace import CHANNEL

NOT_DELIVERED = (OSError, asyncio.TimeoutError, aiohttp.ClientError)
# Which key of a view_submission's state entry carries the value, per element type
# (https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_submission).
_SELECTED = {"datepicker": "selected_date", "timepicker": "selected_time", "users_select": "selected_user",
             "multi_users_select": "selected_users", "conversations_select": "selected_conversation",
             "multi_conversations_select": "selected_conversations", "channels_select": "selected_channel",
             "multi_channels_select": "selected_channels"}
_ONE_OPTION = {"static_select", "external_select", "radio_buttons"}
_MANY_OPTIONS = {"multi_static_select", "multi_external_select", "checkboxes"}


def _option(element: dict, raw: Any) -> dict:
    """The option an element offers with value `raw`; an external select's options are the bot's, so any value."""
    if isinstance(raw, dict):
        return raw
    offered = list(element.get("options", [])) + [o for g in element.get("option_groups", [])
                                                   for o in g.get("options", [])]
    found = next((o for o in offered if o.get("value") == str(raw)), None)
    if found is not None:
        return found
    if element["type"].endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(raw)}, "value": str(raw)}
    raise BadRequest(f"{element['action_id']!r} offers no option {raw!r} (offers {[o.get('value') for o in offered]})")


def view_state_values(view: dict, values: dict[str, Any]) -> dict[str, dict[str, dict]]:
    """Simple answers {block_id, block_id without "field-", or action_id: value} as Slack's view.state.values
    {block_id: {action_id: {type, value | selected_*}}}: text as is, a select's option value, a multi-select's
    list of them, a date as YYYY-MM-DD, a user id. A key no input of the view has is refused."""
    state: dict[str, dict[str, dict]] = {}
    used: set[str] = set()
    inputs = [b for b in view["blocks"] if b.get("type") == "input"]
    # An action_id names an input only when no other input shares it (Slack only keeps block_ids unique).
    shared = {a for a in (b["element"].get("action_id") for b in inputs)
              if sum(b["element"].get("action_id") == a for b in inputs) > 1}
    for block in inputs:
        element, block_id = block["element"], block["block_id"]
        action_id = element.get("action_id")
        keys = (block_id, block_id.removeprefix("field-"), None if action_id in shared else action_id)
        key = next((k for k in keys if k is not None and k in values), None)
        if key is None:
            continue
        used.add(key)
        raw, kind = values[key], element["type"]
        entry: dict[str, Any] = {"type": kind}
        if kind in _ONE_OPTION:
            entry["selected_option"] = None if raw is None else _option(element, raw)
        elif kind in _MANY_OPTIONS:
            entry["selected_options"] = [_option(element, r) for r in (raw if isinstance(raw, list) else [raw])]
        elif kind in _SELECTED:
            entry[_SELECTED[kind]] = raw
        else:  # plain_text_input, number_input, email/url inputs: Slack sends the typed text
            entry["value"] = None if raw is None else str(raw)
        state[block_id] = {element["action_id"]: entry}
    if unknown := sorted(set(values) - used):
        raise BadRequest(f"view {view['id']} has no input {unknown} (its inputs: {[b['block_id'] for b in inputs]})")
    return state


def _view_out(view: dict | None) -> dict | None:
    if view is None:
        return None
    return {k: view_api(view).get(k) for k in ("id", "type", "title", "blocks", "private_metadata", "callback_id",
                                               "hash")} | {"user": view.get("user")}


async def _bot(call: Awaitable[tuple[int, str]], **extra: Any) -> web.Response:
    """The bot's answer to one simulated request, as JSON; a down bot is status 0, not an error of ours."""
    try:
        status, body = await call
    except NOT_DELIVERED as exc:
        return web.json_response({"status": 0, "body": f"not delivered: {type(exc).__name__}", **extra})
    return web.json_response({"status": status, "body": body, **extra})


async def _wait_for(predicate, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def add_slack_routes(app: web.Application, slack: SlackSandbox, sim: SlackSimulator) -> None:
    """Register the Slack endpoints on the control app."""

    def user_of(p: dict, default: str | None = None) -> str:
        user = p.get("user") or default
        if user not in slack.users:
            raise BadRequest(f"unknown Slack user {user!r} (the workspace has {sorted(slack.users)})")
        return user

    def open_view(view_id: str) -> dict:
        view = slack.views.get(view_id)
        if view is None:
            raise web.HTTPNotFound(text=json.dumps({"error": f"no view {view_id}"}), content_type="application/json")
        return view

    async def messages(_: web.Request) -> web.Response:
        out = []
        for msgs in slack.messages.values():
            for m in msgs:
                replies = [r.ts for r in msgs if r.thread_ts == m.ts and r.ts != m.ts]
                out.append({"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": slack.render(m),
                            "raw_text": m.text, "blocks": m.blocks, "user": m.user, "edited_ts": m.edited_ts,
                            "replies": replies, "files": m.files})
        return web.json_response({"messages": out, "ephemerals": slack.ephemerals})

    async def click(request: web.Request) -> web.Response:
        p = await body_of(request)
        sent_at = time.time()  # when the click left "Slack" (benchmarks time the bot from here)
        try:
            call = sim.click(p["channel"], p["ts"], p["action_id"], p["user"], p.get("value"),
                             block_id=p.get("block_id"))
            return await _bot(call, sent_at=sent_at)
        except (KeyError, LookupError, ValueError) as exc:
            return web.json_response({"error": f"cannot click that: {exc}"}, status=400)

    async def decide(request: web.Request) -> web.Response:
        """{"channel", "ts", "action_id", "user", "values": {field: value}}: a plain click, or, when the button
        opens a modal, the click, then the modal's submission once the bot has filled it in. "status" is the
        bot's answer to the step that records the vote (the click, or the submission); 0 if it was down."""
        p = await body_of(request)
        try:
            msg = slack.message(p["channel"], p["ts"])
            button = next((e for b in msg.blocks if b.get("type") == "actions" for e in b.get("elements", [])
                           if e.get("action_id") == p["action_id"]), None)
            if button is None:
                return web.json_response({"error": "no such button (decided already?)"}, status=400)
            before = set(slack.views)
            status, body = await sim.click(p["channel"], p["ts"], p["action_id"], p["user"])
            if status != 200 or '"form":true' not in (button.get("value") or "").replace(" ", ""):
                return web.json_response({"status": status, "body": body, "step": "click"})

            def filled() -> list[dict]:
                new = [v for vid, v in slack.views.items() if vid not in before and v.get("user") == p["user"]]
                return new if new and not any("Loading" in str(b) for b in new[-1]["blocks"]) else []

            if not await _wait_for(filled, float(p.get("timeout", 10))):
                return web.json_response({"status": 0, "body": "the modal was never filled in", "step": "modal"})
            view = filled()[-1]
            return await _bot(sim.submit_view(view["id"], p["user"], view_state_values(view, p.get("values") or {})),
                              step="submit")
        except (KeyError, LookupError, ValueError, StopIteration) as exc:
            return web.json_response({"error": f"cannot decide that: {exc!r}"}, status=400)
        except NOT_DELIVERED as exc:
            return web.json_response({"status": 0, "body": f"not delivered: {type(exc).__name__}"})

    async def command(request: web.Request) -> web.Response:
        """{"command": "/order-request", "text", "user", "channel"}: a slash command, form-encoded as Slack's."""
        p = await body_of(request)
        name = str(p.get("command") or "")
        if not name.startswith("/"):
            raise BadRequest(f"command must start with / (got {name!r})")
        return await _bot(sim.slash(name, str(p.get("text") or ""), user_of(p), str(p.get("channel") or CHANNEL)))

    async def home(request: web.Request) -> web.Response:
        """{"user"}: the user opens the app's Home tab; waits (up to "timeout" s) for the bot to publish it."""
        p = await body_of(request)
        user = user_of(p)
        before = (slack.home_views.get(user) or {}).get("hash")
        answer = await _bot(sim.open_home(user))
        reply = json.loads(answer.text or "{}")
        if reply["status"] == 200:
            await _wait_for(lambda: (slack.home_views.get(user) or {}).get("hash") != before,
                            float(p.get("timeout", 5)))
        return web.json_response({**reply, "view": _view_out(slack.home_views.get(user))})

    async def home_view(request: web.Request) -> web.Response:
        return web.json_response({"view": _view_out(slack.home_views.get(request.match_info["user"]))})

    async def views(request: web.Request) -> web.Response:
        """Open modals (each user's modal stack, bottom first); ?user= for one user's."""
        wanted = request.query.get("user")
        out = [_view_out(slack.views[vid]) for user, stack in slack.view_stacks.items()
               if wanted in (None, user) for vid in stack if vid in slack.views]
        return web.json_response({"views": out})

    async def submit(request: web.Request) -> web.Response:
        """{"user", "values": {block_id or action_id: value}}: submit a modal; "errors": the bot's
        response_action errors (the modal stays open)."""
        p = await body_of(request)  # a body that is not JSON is refused before anything is looked up
        view = open_view(request.match_info["view_id"])
        user = user_of(p, view.get("user"))
        state = view_state_values(view, p.get("values") or {})
        try:
            answer = await _bot(sim.submit_view(view["id"], user, state))
        except (LookupError, ValueError) as exc:  # not an input of the view; an invalid response_action view
            raise BadRequest(f"cannot submit that: {exc}") from None
        reply = json.loads(answer.text or "{}")
        try:
            ack = json.loads(reply["body"]) if str(reply.get("body") or "").strip() else None
        except ValueError:
            ack = None
        if isinstance(ack, dict) and ack.get("response_action") == "errors":
            reply["errors"] = ack.get("errors") or {}
        return web.json_response(reply)

    async def view_action(request: web.Request) -> web.Response:
        """{"action_id", "user", "value"?, "block_id"?}: click (or pick) an element inside a modal or Home view."""
        p = await body_of(request)
        view = open_view(request.match_info["view_id"])
        if not p.get("action_id"):
            raise BadRequest("action_id is required")
        try:
            return await _bot(sim.click_view(view["id"], str(p["action_id"]), user_of(p, view.get("user")),
                                             p.get("value"), block_id=p.get("block_id")))
        except LookupError as exc:
            raise BadRequest(f"cannot click that: {exc}") from None

    app.router.add_get("/messages", messages)
    app.router.add_post("/click", click)
    app.router.add_post("/decide", decide)
    app.router.add_post("/commands", command)
    app.router.add_post("/home", home)
    app.router.add_get("/home/{user}", home_view)
    app.router.add_get("/views", views)
    app.router.add_post("/views/{view_id}/submit", submit)
    app.router.add_post("/views/{view_id}/actions", view_action)
