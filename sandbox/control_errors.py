"""The control API's refusals: one middleware turns a bad request (not JSON, not an object, a field we do not
accept) into a 400 with one sentence, never a traceback and a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class BadRequest(ValueError):
    """The request cannot be done as asked; the message says why (and what is accepted)."""


async def body_of(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body); BadRequest for anything else."""
    if not request.can_read_body:
        return {}
    raw = await request.text()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON ({exc}); send a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest(f"the body is a JSON {type(body).__name__}; send a JSON object")
    return body


@web.middleware
async def refusals(request: web.Request, handler) -> web.StreamResponse:
    """BadRequest (and a handler's own request.json() on a body that is not JSON) as a 400 JSON answer."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except json.JSONDecodeError as exc:
        return web.json_response({"error": f"the body is not JSON ({exc}); send a JSON object"}, status=400)
