"""The aiohttp application: /api/{method}, /response/{id}, /upload/{file_id}."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import chat, directory, files, views
from .access import accepted, check_scope
from .blockkit import MAX_MESSAGE_TEXT, check_message
from .ratelimit import PER_CHANNEL_METHODS
from .socket import OPEN_METHOD, close_all
from .state import RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL_SECONDS, SlackError

if TYPE_CHECKING:
    from .core import SlackSandbox

log = logging.getLogger(__name__)

METHODS = {**chat.METHODS, **views.METHODS, **directory.METHODS, **files.METHODS}
SANDBOX_KEY = web.AppKey("slack_sandbox", object)


def build_app(sb: SlackSandbox) -> web.Application:
    """An aiohttp application serving the sandbox's HTTP surface."""
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[SANDBOX_KEY] = sb
    app.router.add_route("*", "/api/{method}", _api)
    app.router.add_post("/response/{response_id}", _response_url)
    app.router.add_post("/upload/{file_id}", _upload)
    app.router.add_get("/socket-mode/{ticket}", _socket_mode)
    app.on_shutdown.append(_close_sockets)
    return app


async def _socket_mode(request: web.Request) -> web.StreamResponse:
    sb: SlackSandbox = request.app[SANDBOX_KEY]  # type: ignore[assignment]
    return await sb.socket.serve(request)


async def _close_sockets(app: web.Application) -> None:
    # Open websockets would otherwise hold the server's shutdown until its timeout.
    await close_all(app[SANDBOX_KEY].socket)  # type: ignore[attr-defined]


def _learn_base_url(sb: SlackSandbox, request: web.Request) -> None:
    # Upload URLs and response_urls must point back here; the first request tells us where "here" is.
    if not sb.base_url:
        sb.base_url = f"{request.scheme}://{request.host}"


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query parameters merged with a JSON or form body (slack_sdk sends all three)."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def _answer(sb: SlackSandbox, method: str, args: dict, status: int, body: dict,
            headers: dict[str, str] | None = None, *, limited: bool = False) -> web.Response:
    # `limited`: a 429 from the rate limits themselves, not an injected fault (benchmarks count them).
    sb.calls.append({"method": method, "args": args, "ok": bool(body.get("ok")),
                     "error": body.get("error"), "status": status, "limited": limited})
    return web.json_response(body, status=status, headers=headers)


async def _api(request: web.Request) -> web.StreamResponse:
    sb: SlackSandbox = request.app[SANDBOX_KEY]  # type: ignore[assignment]
    _learn_base_url(sb, request)
    method = request.match_info["method"]
    try:
        args = await _read_args(request)
    except SlackError as exc:
        return _answer(sb, method, {}, 200, {"ok": False, "error": exc.code})
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else args.get("token")
    args.pop("token", None)

    fault = sb.faults.take(method)
    if fault is not None and fault.kind != "lost_reply":
        return await _inject(sb, request, method, args, fault)
    if not token:
        return _answer(sb, method, args, 200, {"ok": False, "error": "not_authed"})
    if method == OPEN_METHOD or token == sb.app_token:
        # Socket Mode wants the app-level token, and that token is good for nothing else (as on Slack).
        answer = _answer(sb, method, args, 200, sb.socket.connections_open(method, token))
        if fault is not None and request.transport is not None:
            request.transport.close()  # lost_reply, as below
        return answer
    if token != sb.bot_token:
        return _answer(sb, method, args, 200, {"ok": False, "error": "invalid_auth"})
    handler = METHODS.get(method)
    if handler is None:
        return _answer(sb, method, args, 404, {"ok": False, "error": "unknown_method"})

    headers = _scope_headers(sb, method, args)
    channel = args.get("channel")
    if method in PER_CHANNEL_METHODS:
        try:
            channel = chat.resolve_channel(sb, channel)
        except SlackError:
            pass
    retry_after = sb.limiter.check(method, channel if isinstance(channel, str) else None, sb.clock())
    if retry_after:
        return _answer(sb, method, args, 429, {"ok": False, "error": "ratelimited"},
                       headers={**headers, "Retry-After": str(retry_after)}, limited=True)
    try:
        check_scope(sb, method, args)
        result = handler(sb, args)
    except SlackError as exc:
        return _answer(sb, method, args, 200, {"ok": False, "error": exc.code, **exc.extra}, headers)
    except (TypeError, ValueError, AttributeError) as exc:
        # Malformed argument values (wrong types) are refused by Slack, not crashed on.
        log.info("sandbox %s refused malformed arguments: %s", method, exc)
        return _answer(sb, method, args, 200, {"ok": False, "error": "invalid_arguments"}, headers)
    answer = _answer(sb, method, args, 200, {"ok": True, **result}, headers)
    if fault is not None and request.transport is not None:
        # lost_reply: the call took effect but the caller never hears so (a dropped connection).
        request.transport.close()
    return answer


def _scope_headers(sb: SlackSandbox, method: str, args: dict) -> dict[str, str]:
    """The bot token's scopes on every answer to it, and the scopes this call checks for, as Slack sends them:
    Slack's own clients read `x-oauth-scopes` into response_metadata.scopes and `x-accepted-oauth-scopes` into
    response_metadata.acceptedScopes from any Web API response (node-slack-sdk WebClient.buildResult, documented as
    https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/WebAPICallResult), and bolt reads the
    bot's scopes from auth.test's `x-oauth-scopes` (slack_bolt/middleware/authorization/internals.py)."""
    headers = {"x-oauth-scopes": ",".join(sb.bot_scopes)}
    if wanted := accepted(sb, method, args):
        headers["x-accepted-oauth-scopes"] = wanted
    return headers


async def _inject(sb: SlackSandbox, request: web.Request, method: str, args: dict, fault: Any) -> web.StreamResponse:
    """Answer with a planned fault instead of running the method."""
    if fault.kind == "error":
        return _answer(sb, method, args, 200, {"ok": False, "error": getattr(fault, "error", "fatal_error")})
    if fault.kind == "429":
        return _answer(sb, method, args, 429, {"ok": False, "error": "ratelimited"},
                       headers={"Retry-After": str(fault.retry_after)})
    if fault.kind == "5xx":
        error = "service_unavailable" if fault.status == 503 else "internal_error"
        return _answer(sb, method, args, fault.status, {"ok": False, "error": error})
    # "timeout": hold the request, then drop the connection without an answer.
    sb.calls.append({"method": method, "args": args, "ok": False, "error": "timeout", "status": 0})
    await asyncio.sleep(fault.delay)
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=504)


async def _response_url(request: web.Request) -> web.Response:
    """A response_url: records the post and applies it as Slack would."""
    sb: SlackSandbox = request.app[SANDBOX_KEY]  # type: ignore[assignment]
    response_id = request.match_info["response_id"]
    entry = sb.response_urls.get(response_id)
    if entry is None or sb.clock() - entry["issued"] > RESPONSE_URL_TTL_SECONDS:
        return web.Response(status=404, text="expired_url")
    if entry["uses"] >= RESPONSE_URL_MAX_USES:
        return web.Response(status=404, text="used_url")
    try:
        body = json.loads(await request.text())
    except ValueError:
        return web.Response(status=400, text="invalid_payload")
    if not isinstance(body, dict):
        return web.Response(status=400, text="invalid_payload")
    blocks = body.get("blocks")
    if blocks is not None and (not isinstance(blocks, list) or check_message(blocks)):
        return web.Response(status=400, text="invalid_blocks")
    text = body.get("text") or ""
    if len(text) > MAX_MESSAGE_TEXT:
        return web.Response(status=400, text="msg_too_long")
    entry["uses"] += 1
    record = {"id": response_id, "response_type": body.get("response_type", "ephemeral"), "text": text,
              "blocks": blocks or [], "replace_original": bool(body.get("replace_original", False)),
              "delete_original": bool(body.get("delete_original", False)), "thread_ts": body.get("thread_ts")}
    sb.responses.append(record)
    _apply_response(sb, entry, record, body)
    return web.json_response({"ok": True})


def _apply_response(sb: SlackSandbox, entry: dict, record: dict, body: dict) -> None:
    channel, original_ts = entry["channel"], entry["message_ts"]
    original = None
    if channel and original_ts:
        try:
            original = sb.message(channel, original_ts)
        except KeyError:
            original = None
    filled = sb.fill_ids(record["blocks"]) if record["blocks"] else []
    if record["delete_original"]:
        if original is not None:
            sb.delete(original)
    elif record["replace_original"]:
        if original is not None:
            sb.edit(original, text=record["text"], blocks=filled, metadata=body.get("metadata"))
    elif record["response_type"] == "in_channel" and channel:
        sb.post(channel, text=record["text"], blocks=filled, thread_ts=record["thread_ts"])
    else:
        sb.ephemerals.append({"channel": channel, "user": entry["user"], "text": record["text"],
                              "blocks": filled, "thread_ts": record["thread_ts"], "message_ts": sb.new_ts()})


async def _upload(request: web.Request) -> web.Response:
    """The upload URL from files.getUploadURLExternal: raw bytes or a multipart "file" field."""
    sb: SlackSandbox = request.app[SANDBOX_KEY]  # type: ignore[assignment]
    if request.content_type == "multipart/form-data":
        form = await request.post()
        field = form.get("file") or form.get("filename")
        content = field.file.read() if hasattr(field, "file") else str(field or "").encode()
    else:
        content = await request.read()
    if not files.receive_upload(sb, request.match_info["file_id"], content):
        return web.Response(status=404, text="file_not_found")
    return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

