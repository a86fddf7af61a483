"""`holdfast sandbox`'s control API, ShipStation side: GET /state's "shipstation" section, POST /shipstation/label
(the warehouse buys a label: a later hold fails) and POST /shipstation/import_delay."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from sandbox.control_errors import BadRequest, body_of

from .records import midnight
from .state import ShipStationSandbox


def state_section(sb: ShipStationSandbox) -> dict[str, Any]:
    """Accounts, shipments (with how often each was held, restored, tagged) and every call, for tests."""
    sb.sync()
    shipments = []
    for s in sb.shipments.values():
        warehouses = sb.accounts[s.account].warehouses
        shipments.append({
            "shipment_id": s.shipment_id, "shop": s.account, "order": s.order_name, "status": s.status,
            "shipment_number": s.shipment_number, "external_shipment_id": s.external_shipment_id,
            "hold_until_date": midnight(s.hold_until) if s.hold_until else None, "tags": list(s.tags),
            "warehouse": warehouses[s.warehouse_id].name if s.warehouse_id in warehouses else None,
            **{f"{kind}s": sb.count(kind, shipment_id=s.shipment_id) for kind in ("hold", "restore", "release")},
        })
    return {
        "accounts": {shop: {"warehouses": [{"warehouse_id": w.warehouse_id, "name": w.name, "is_default": w.is_default}
                                           for w in a.warehouses.values()], "tags": list(a.tags)}
                     for shop, a in sb.accounts.items()},
        "import_delay_s": sb.import_delay_s,
        "waiting_imports": [p.order.name for p in sb.pending],
        "shipments": shipments,
        "calls": Counter(f"{c['method']} {c['route']} {c['status']}{' ' + c['fault'] if c['fault'] else ''}"
                         for c in sb.calls),
        "changes": sb.changes,
    }


def add_shipstation_routes(app: web.Application, sb: ShipStationSandbox, *, default_shop: str) -> None:
    async def label(request: web.Request) -> web.Response:
        """{"order": "#1001", "shop"?}: buy a label on the order's shipment."""
        p = await body_of(request)
        name, shop = str(p.get("order", "")), p.get("shop", default_shop)
        shipment = sb.shipment_for_order(shop, "#" + name.lstrip("#"))
        if shipment is None:
            raise BadRequest(f"no ShipStation shipment for order {name!r} of {shop} (not imported yet?)")
        try:
            sb.buy_label(shipment.shipment_id)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return web.json_response({"shipment_id": shipment.shipment_id, "status": shipment.status})

    async def import_delay(request: web.Request) -> web.Response:
        """{"seconds": n}: import new orders n seconds after they are placed (0: at once; null: never)."""
        p = await body_of(request)
        if "seconds" not in p:
            raise BadRequest('send {"seconds": n} (0: at once; null: never import)')
        seconds = p["seconds"]
        if seconds is not None and (not isinstance(seconds, int | float) or seconds < 0):
            raise BadRequest("seconds must be a number >= 0, or null (never import)")
        sb.set_import_delay(None if seconds is None else float(seconds))
        return web.json_response({"import_delay_s": sb.import_delay_s})

    app.router.add_post("/shipstation/label", label)
    app.router.add_post("/shipstation/import_delay", import_delay)
