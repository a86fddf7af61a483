"""The V2 API over HTTP: https://api.shipstation.com/v2/… with the `API-Key` header, each route as documented
(the URL beside each handler), refusals in ShipStation's error shape (errors.py).

Every request passes, in order: the API key (401), the account's rate limit (429 + Retry-After), the fault
injector, then the handler; each is recorded in sb.calls (method, path, route, status, account, fault).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import UNAUTHORIZED, ApiError, error_response
from .listing import list_shipments
from .operations import add_tag, create_tag, hold, remove_tag, restore, shipment_of, update
from .ratelimit import retry_after_header

if TYPE_CHECKING:
    from .records import Account
    from .state import ShipStationSandbox

ACCOUNT = web.RequestKey("shipstation_account", object)  # the request's account, once its API key is known
SANDBOX = web.AppKey("shipstation", object)


async def json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    try:
        return json.loads(await request.text())
    except ValueError:
        raise ApiError(400, "validation", "invalid_field_value", "The request body is not valid JSON") from None


def make_app(sb: ShipStationSandbox) -> web.Application:
    def account(request: web.Request) -> Account:
        return request[ACCOUNT]

    @web.middleware
    async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.name or "unknown"
        call: dict[str, Any] = {"method": request.method, "path": request.path, "route": route,
                                "status": None, "account": None, "fault": None}
        sb.calls.append(call)
        response = await answer(request, handler, route, call)
        call["status"] = response.status
        return response

    async def answer(request: web.Request, handler: Any, route: str, call: dict[str, Any]) -> web.StreamResponse:
        try:
            # Auth: the `API-Key` header (https://docs.shipstation.com/apis/shipengine/docs/guides/auth); a
            # missing or wrong key is a 401 and counts against no account.
            acct = sb.account_for_key(request.headers.get("API-Key"))
            if acct is None:
                raise ApiError(401, *UNAUTHORIZED)
            call["account"], request[ACCOUNT] = acct.shop, acct
            wait = sb.limiter(acct.shop).take(sb.clock())
            if wait:
                raise ApiError(429, "system", "rate_limit_exceeded",
                               "You have exceeded the rate limit (https://docs.shipstation.com/rate-limits)",
                               headers={"Retry-After": retry_after_header(wait)})
            fault = sb.faults.take([route])
            if fault and not fault.after_execute:
                call["fault"] = fault.kind
                return await faulted(fault)
            sb.sync()  # imports that came due, holds whose date came: before the request sees the account
            response = await handler(request)
            if fault:  # the operation ran; the client is told it failed
                call["fault"] = f"{fault.kind} after execute"
                return await faulted(fault)
            return response
        except ApiError as exc:
            return error_response(exc)
        except web.HTTPNotFound:
            return error_response(ApiError(404, "validation", "invalid_identifier", f"No route {request.path}"))
        except web.HTTPMethodNotAllowed:
            return error_response(ApiError(405, "validation", "invalid_field_value",
                                           f"{request.method} is not allowed on {request.path}"))

    async def faulted(fault: Any) -> web.Response:
        if fault.kind == "throttled":
            return error_response(ApiError(429, "system", "rate_limit_exceeded", "You have exceeded the rate limit",
                                           headers={"Retry-After": "1"}))
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return error_response(ApiError(504, "system", "unspecified", "Gateway Timeout"))
        return error_response(ApiError(fault.status, "system", "unspecified", "An unexpected error occurred"))

    def base_url(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def list_(request: web.Request) -> web.Response:
        # https://docs.shipstation.com/list-shipments
        return web.json_response(list_shipments(sb, account(request), request.query, base_url=base_url(request)))

    async def get(request: web.Request) -> web.Response:
        # https://docs.shipstation.com/list-shipments ("Get shipment by ID")
        return web.json_response(shipment_of(sb, account(request), request.match_info["shipment_id"]).to_json())

    async def get_external(request: web.Request) -> web.Response:
        # GET /v2/shipments/external_shipment_id/{external_shipment_id}
        # (https://docs.shipstation.com/apis/openapi/shipments/get_shipment_by_external_id)
        wanted = request.match_info["external_shipment_id"]
        for s in sb.shipments.values():
            if s.account == account(request).shop and s.external_shipment_id == wanted:
                return web.json_response(s.to_json())
        raise ApiError(404, "validation", "invalid_identifier", f"Shipment with external id {wanted} not found")

    async def put(request: web.Request) -> web.Response:
        # https://docs.shipstation.com/shipments/update
        s = update(sb, account(request), request.match_info["shipment_id"], await json_body(request))
        return web.json_response(s.to_json())

    async def hold_(request: web.Request) -> web.Response:
        # https://docs.shipstation.com/apis/openapi/shipments/hold_shipment. What a successful hold answers is
        # not in the docs we could read: 204 without a body, the harsher reading (read the shipment to see it).
        hold(sb, account(request), request.match_info["shipment_id"], await json_body(request))
        return web.Response(status=204)

    async def restore_(request: web.Request) -> web.Response:
        # https://docs.shipstation.com/hold-and-restore-shipments names the operation, not its path: PUT
        # /v2/shipments/{shipment_id}/restore, the hold endpoint's sibling; 204 like it.
        restore(sb, account(request), request.match_info["shipment_id"])
        return web.Response(status=204)

    async def tag(request: web.Request) -> web.Response:
        # https://docs.shipstation.com/tag-shipments: {"shipment_id", "tag": {"name"}}
        name = request.match_info["tag_name"]
        s = add_tag(sb, account(request), request.match_info["shipment_id"], name)
        return web.json_response({"shipment_id": s.shipment_id, "tag": {"name": name}})

    async def untag(request: web.Request) -> web.Response:
        # https://docs.shipstation.com/apis/shipengine/docs/reference/remove-tag-from-shipment: 204
        remove_tag(sb, account(request), request.match_info["shipment_id"], request.match_info["tag_name"])
        return web.Response(status=204)

    async def tags(request: web.Request) -> web.Response:
        # GET /v2/tags (https://docs.shipstation.com/apis/openapi/tags): {"tags": [{"name"}]}
        return web.json_response({"tags": [{"name": t} for t in account(request).tags]})

    async def new_tag(request: web.Request) -> web.Response:
        # POST /v2/tags/{tag_name} (https://docs.shipstation.com/tag-shipments): {"name"}
        return web.json_response(create_tag(account(request), request.match_info["tag_name"]))

    async def warehouses(request: web.Request) -> web.Response:
        # GET /v2/warehouses (https://docs.shipstation.com/apis/openapi/warehouses/get_warehouse_by_id: fields)
        return web.json_response({"warehouses": [w.to_json() for w in account(request).warehouses.values()]})

    async def warehouse(request: web.Request) -> web.Response:
        w = account(request).warehouses.get(request.match_info["warehouse_id"])
        if w is None:
            raise ApiError(404, "validation", "invalid_identifier", "Warehouse not found")
        return web.json_response(w.to_json())

    app = web.Application(middlewares=[gate])
    app[SANDBOX] = sb
    r = app.router
    r.add_get("/v2/shipments", list_, name="list_shipments")
    r.add_get("/v2/shipments/external_shipment_id/{external_shipment_id}", get_external, name="get_by_external_id")
    r.add_get("/v2/shipments/{shipment_id}", get, name="get_shipment")
    r.add_put("/v2/shipments/{shipment_id}", put, name="update_shipment")
    r.add_put("/v2/shipments/{shipment_id}/hold", hold_, name="hold")
    r.add_put("/v2/shipments/{shipment_id}/restore", restore_, name="restore")
    r.add_post("/v2/shipments/{shipment_id}/tags/{tag_name}", tag, name="add_tag")
    r.add_delete("/v2/shipments/{shipment_id}/tags/{tag_name}", untag, name="remove_tag")
    r.add_get("/v2/tags", tags, name="list_tags")
    r.add_post("/v2/tags/{tag_name}", new_tag, name="create_tag")
    r.add_get("/v2/warehouses", warehouses, name="list_warehouses")
    r.add_get("/v2/warehouses/{warehouse_id}", warehouse, name="get_warehouse")
    return app
