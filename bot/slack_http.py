"""POST /slack/events in front of bolt: size, signature and encoding are checked on the raw bytes first.

bolt parses the body (form or JSON) before it verifies the signature, and decodes it with the charset the
sender claims, so unsigned garbage, a bogus charset or invalid UTF-8 would surface as a 500. Here an
unsigned or stale request is a 401, an unreadable signed one a 400, and only then does bolt see it.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot import logctx, metrics

log = logging.getLogger(__name__)


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


OBJECTS = ("team", "user", "channel", "container", "view", "message", "enterprise", "state", "event")
TEXTS = ("type", "token", "api_app_id", "trigger_id", "response_url", "callback_id", "team_id", "user_id",
         "channel_id", "enterprise_id", "event_id", "command", "text")


NEVER_NULL = ("user", "view", "event", "state")  # bolt reads into these without a None check


def _id_ok(key: str, value: Any) -> bool:
    if value is None:
        return key not in NEVER_NULL
    return isinstance(value, dict) and isinstance(value.get("id", ""), (str, type(None)))


def envelope_problem(body: str, content_type: str) -> str | None:
    """Why a signed body is not shaped like anything Slack sends (None when it is).

    Only the envelope bolt reads before any listener runs is checked (ids, types, the actions list); what a
    listener reads beyond that is the listener's to validate.
    """
    if content_type == "application/json" or body.startswith("{"):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return "body is not JSON"
    else:
        form = parse_qs(body, keep_blank_values=True)
        if "payload" not in form:
            return None  # a slash command: flat text fields, nothing nested
        try:
            data = json.loads(form["payload"][0])
        except (ValueError, RecursionError):
            return "payload is not JSON"
    if not isinstance(data, dict):
        return "payload is not an object"
    for key in OBJECTS:
        if key in data and not _id_ok(key, data[key]):
            return f"`{key}` is not an object with a text id"
    for key in TEXTS:
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"`{key}` is not text"
    event = data.get("event", {})
    if not isinstance(event, dict) or not isinstance(event.get("type", ""), str):
        return "`event.type` is not text"
    for key in ("actions", "authorizations"):
        items = data.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            return f"`{key}` is not a list of objects"
    if data.get("type") in ("block_actions", "interactive_message") and not data.get("actions"):
        return "an interaction without actions"
    for action in data.get("actions") or []:
        if any(action.get(k) is not None and not isinstance(action[k], str) for k in ("action_id", "block_id", "value")):
            return "an action's action_id, block_id or value is not text"
    return None


def make_handler(bolt: AsyncApp, signing_secret: str):
    """The aiohttp handler for /slack/events (the body-size limit is the app's client_max_size: 413)."""
    verifier = SignatureVerifier(signing_secret) if signing_secret.strip() else None

    async def slack_events(request: web.Request) -> web.Response:
        # What Slack waits for: within 3 s, or the user sees an error. Lines logged meanwhile carry the request's id.
        with metrics.SLACK_ACK.time(), logctx.scope(f"slack {uuid.uuid4().hex[:8]}"):
            return await answer(request)

    async def answer(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            signed = verifier is not None and verifier.is_valid(
                body, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature"))
        except (ValueError, OverflowError):  # a timestamp that is not a number
            signed = False
        if not signed:
            return _error(401, "invalid Slack signature or timestamp")
        try:
            text = body.decode("utf-8")  # Slack always sends UTF-8, whatever the Content-Type claims
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)
        except Exception as exc:  # noqa: BLE001 - whatever bolt cannot parse is the sender's fault
            log.info("unreadable Slack request refused: %s", type(exc).__name__)
            return _error(400, "unreadable request body")
        problem = envelope_problem(text, request.content_type)
        if problem:
            log.info("malformed Slack request refused: %s", problem)
            return _error(400, f"malformed request: {problem}")
        try:
            response = await bolt.async_dispatch(bolt_request)
        except Exception as exc:  # noqa: BLE001
            # bolt answers 500 itself when a listener fails; what escapes dispatch comes from reading the
            # payload's shape (ids, the first action) before or while handling it: a malformed request.
            log.warning("Slack request bolt could not read refused: %s: %s", type(exc).__name__, exc)
            return _error(400, "malformed request")
        return await to_aiohttp_response(response)

    return slack_events
