"""The ShipStation client (bot/shipstation/client.py) against an HTTP server in the test speaking ShipStation's
documented shapes: errors `{"request_id", "errors": [{"error_source", "error_type", "error_code", "message"}]}`
(https://docs.shipstation.com/apis/shipengine/docs/reference/errors-codes), 429 with Retry-After
(https://docs.shipstation.com/rate-limits), and the requests it sends (method, path, body, API-Key)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.shipstation.client import Budget, ShipStationClient, classify
from bot.shipstation.errors import ShipStationAuthError, ShipStationError, ShipStationRateLimited, ShipStationTransient
from bot.shipstation.throttle import Bucket

KEY = "TEST_key_123"
SHIPMENT = {"shipment_id": "se-1", "shipment_status": "pending", "hold_until_date": None, "warehouse_id": "se-10",
            "shipment_number": "1001", "external_shipment_id": "555", "tags": [{"name": "vip"}],
            "ship_to": {"name": "A"}, "ship_from": {"name": "Main"}, "created_at": "2026-12-08T00:00:00Z",
            "modified_at": "2026-12-08T00:00:00Z", "total_weight": {"value": 1}, "carrier_id": "se-5"}


def error(code: str, message: str, error_type: str = "validation") -> dict[str, Any]:
    return {"request_id": "aa3d8e8e-462b-4476-9618-72db7f7b7009",
            "errors": [{"error_source": "shipstation", "error_type": error_type, "error_code": code,
                        "message": message}]}


class Fake:
    """Answers from a script of (status, body, headers), records every request it was sent."""

    def __init__(self) -> None:
        self.script: list[tuple[int, Any, dict[str, str]]] = []
        self.seen: list[tuple[str, str, str | None, Any, dict[str, str]]] = []
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        text = await request.text()
        self.seen.append((request.method, request.path, request.headers.get("API-Key"),
                          json.loads(text) if text else None, dict(request.query)))
        if self.delay:
            await asyncio.sleep(self.delay)
        status, body, headers = self.script.pop(0) if self.script else (200, SHIPMENT, {})
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[Fake, str]]:
    server = Fake()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield server, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize(
    ("status", "body", "retry_after", "kind", "attrs"),
    [
        (200, SHIPMENT, None, None, {}),
        (204, None, None, None, {}),
        (429, error("rate_limit_exceeded", "Too many"), "7", ShipStationRateLimited,
         {"retry_after_s": 7.0, "code": "rate_limit_exceeded"}),
        (429, None, None, ShipStationRateLimited, {"retry_after_s": 60.0}),  # no header: a whole minute
        (429, None, "Wed, 21 Oct 2026 07:28:00 GMT", ShipStationRateLimited, {"retry_after_s": 60.0}),
        (500, error("unspecified", "Oops", "system"), None, ShipStationTransient, {"status": 500}),
        (503, "<html>down</html>", None, ShipStationTransient, {"status": 503}),
        (401, error("unauthorized", "The API key is invalid.", "security"), None, ShipStationAuthError,
         {"status": 401, "code": "unauthorized"}),
        (403, error("forbidden", "No.", "security"), None, ShipStationAuthError, {"status": 403}),
        (400, error("invalid_status", "A shipment with a purchased label cannot be held"), None, ShipStationError,
         {"status": 400, "code": "invalid_status", "message": "A shipment with a purchased label cannot be held",
          "request_id": "aa3d8e8e-462b-4476-9618-72db7f7b7009"}),
        (404, error("invalid_identifier", "Shipment not found"), None, ShipStationError,
         {"status": 404, "code": "invalid_identifier"}),
        (409, None, None, ShipStationError, {"status": 409, "code": None}),
    ],
)
def test_classify(status, body, retry_after, kind, attrs):
    found = classify(status=status, body=body, retry_after_header=retry_after, what="GET /v2/shipments/se-1")
    if kind is None:
        assert found is None
        return
    assert type(found) is kind
    for name, value in attrs.items():
        assert getattr(found, name) == value, name


def test_the_four_failures_are_siblings():
    # `except ShipStationError` (refused for good) must never catch a rate limit, an outage or a bad key.
    for other in (ShipStationRateLimited, ShipStationTransient, ShipStationAuthError):
        assert not issubclass(other, ShipStationError) and not issubclass(ShipStationError, other)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "code"),
    [
        (401, error("unauthorized", "The API key is invalid.", "security"), {}, ShipStationAuthError, "unauthorized"),
        (400, error("invalid_status", "label purchased"), {}, ShipStationError, "invalid_status"),
        (502, None, {}, ShipStationTransient, None),
        (429, error("rate_limit_exceeded", "slow down"), {"Retry-After": "3"}, ShipStationRateLimited,
         "rate_limit_exceeded"),
    ],
)
async def test_answers_over_http_raise_their_kind(fake, http, status, body, headers, kind, code):
    server, url = fake
    server.script = [(status, body, headers)]
    with pytest.raises(kind) as raised:
        await ShipStationClient(url, KEY, http).get("se-1")
    assert raised.value.code == code


async def test_a_429_pauses_the_account_so_the_next_call_is_not_sent(fake, http):
    server, url = fake
    server.script = [(429, error("rate_limit_exceeded", "slow down"), {"Retry-After": "30"})]
    budget = Budget()
    one, two = ShipStationClient(url, KEY, http, budget=budget), ShipStationClient(url, KEY, http, budget=budget)
    with pytest.raises(ShipStationRateLimited):
        await one.get("se-1")
    with pytest.raises(ShipStationRateLimited) as raised:
        await two.get("se-1")  # another client of the same account: waits too, without a request
    assert raised.value.retry_after_s >= 29 and len(server.seen) == 1


async def test_an_empty_budget_is_not_slept_in_a_job_but_raised(fake, http):
    server, url = fake
    client = ShipStationClient(url, KEY, http, budget=Budget(Bucket(tokens=-100, at=0), clock=lambda: 0.0),
                               max_wait_s=5)
    with pytest.raises(ShipStationRateLimited) as raised:
        await client.tags()
    assert raised.value.retry_after_s > 5 and server.seen == []


async def test_a_timeout_is_transient(fake, http):
    server, url = fake
    server.delay = 1.0
    with pytest.raises(ShipStationTransient):
        await ShipStationClient(url, KEY, http, timeout_s=0.1).get("se-1")


async def test_an_unreachable_server_is_transient(http):
    with pytest.raises(ShipStationTransient):
        await ShipStationClient("http://127.0.0.1:9", KEY, http).warehouses()


async def test_get_parses_the_shipment_and_sends_the_key(fake, http):
    server, url = fake
    server.script = [(200, {**SHIPMENT, "shipment_status": "on_hold", "hold_until_date": "2027-01-07T00:00:00Z"}, {})]
    s = await ShipStationClient(url, KEY, http).get("se-1")
    assert (s.shipment_id, s.status, s.hold_until, s.tags, s.warehouse_id, s.shipment_number,
            s.external_shipment_id) == ("se-1", "on_hold", date(2027, 1, 7), ("vip",), "se-10", "1001", "555")
    assert server.seen[0][:3] == ("GET", "/v2/shipments/se-1", KEY)


async def test_hold_sends_a_date_only_body_and_reads_the_shipment_back(fake, http):
    server, url = fake
    server.script = [(204, None, {}), (200, {**SHIPMENT, "shipment_status": "on_hold"}, {})]
    s = await ShipStationClient(url, KEY, http).hold("se-1", date(2027, 1, 7))
    assert server.seen[0][:4] == ("PUT", "/v2/shipments/se-1/hold", KEY, {"hold_until_date": "2027-01-07"})
    assert server.seen[1][:2] == ("GET", "/v2/shipments/se-1") and s.status == "on_hold"


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        (lambda c: c.restore("se-1"), "PUT", "/v2/shipments/se-1/restore"),
        (lambda c: c.add_tag("se-1", "awaiting approval"), "POST", "/v2/shipments/se-1/tags/awaiting approval"),
        (lambda c: c.remove_tag("se-1", "vip"), "DELETE", "/v2/shipments/se-1/tags/vip"),
        (lambda c: c.warehouses(), "GET", "/v2/warehouses"),
        (lambda c: c.tags(), "GET", "/v2/tags"),
    ],
)
async def test_each_call_goes_to_its_documented_endpoint(fake, http, call, method, path):
    server, url = fake
    server.script = [(204 if method != "GET" else 200, None if method != "GET" else {"warehouses": [], "tags": []},
                      {})]
    await call(ShipStationClient(url, KEY, http))
    assert server.seen[0][:2] == (method, path)


async def test_lists_are_parsed(fake, http):
    server, url = fake
    server.script = [(200, {"warehouses": [{"warehouse_id": "se-10", "name": "Main"},
                                           {"warehouse_id": "se-11", "name": "Samples room"}]}, {}),
                     (200, {"tags": [{"name": "vip"}, {"name": "awaiting-approval"}]}, {})]
    client = ShipStationClient(url, KEY, http)
    assert [(w.warehouse_id, w.name) for w in await client.warehouses()] == [("se-10", "Main"),
                                                                            ("se-11", "Samples room")]
    assert await client.tags() == ["vip", "awaiting-approval"]


async def test_set_warehouse_sends_the_shipment_without_read_only_fields_or_ship_from(fake, http):
    server, url = fake
    server.script = [(200, SHIPMENT, {}), (200, {**SHIPMENT, "warehouse_id": "se-11"}, {})]
    s = await ShipStationClient(url, KEY, http).set_warehouse("se-1", "se-11")
    method, path, _key, body, _q = server.seen[1]
    assert (method, path) == ("PUT", "/v2/shipments/se-1") and s.warehouse_id == "se-11"
    assert body["warehouse_id"] == "se-11" and body["ship_to"] == {"name": "A"} and body["carrier_id"] == "se-5"
    assert not {"ship_from", "shipment_id", "shipment_status", "tags", "created_at", "modified_at",
                "total_weight", "hold_until_date"} & set(body)


async def test_find_for_order_by_the_stores_key_first(fake, http):
    server, url = fake
    server.script = [(200, SHIPMENT, {})]
    found = await ShipStationClient(url, KEY, http).find_for_order("#1001", "555")
    assert [s.shipment_id for s in found] == ["se-1"] and len(server.seen) == 1
    assert server.seen[0][:2] == ("GET", "/v2/shipments/external_shipment_id/555")


async def test_find_for_order_falls_back_to_the_order_number_in_the_newest_shipments(fake, http):
    server, url = fake
    other = {**SHIPMENT, "shipment_id": "se-2", "shipment_number": "1002", "external_shipment_id": "x"}
    mine = {**SHIPMENT, "external_shipment_id": "something-else"}
    server.script = [(404, error("invalid_identifier", "not found"), {}),
                     (200, {"shipments": [other, mine], "total": 2, "page": 1, "pages": 1}, {})]
    found = await ShipStationClient(url, KEY, http).find_for_order("#1001", "555")
    assert [s.shipment_id for s in found] == ["se-1"]
    assert server.seen[1][:2] == ("GET", "/v2/shipments") and server.seen[1][4]["sort_dir"] == "desc"


async def test_find_for_order_is_empty_while_shipstation_has_not_imported_it(fake, http):
    server, url = fake
    server.script = [(404, error("invalid_identifier", "not found"), {}),
                     (200, {"shipments": [], "total": 0, "page": 1, "pages": 0}, {})]
    assert await ShipStationClient(url, KEY, http).find_for_order("#1001", "555") == []


@pytest.fixture
async def stand_in() -> AsyncIterator[str]:
    """The sandbox's ShipStation stand-in (sandbox/shipstation/) with one account, over real HTTP."""
    from sandbox.shipstation.state import ShipStationSandbox

    sb = ShipStationSandbox()
    sb.add_account("demo.myshopify.com", api_key=KEY, warehouses=["Main", "Samples room"])
    runner = web.AppRunner(sb.make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    await runner.cleanup()


async def test_against_the_sandbox_stand_in(stand_in, http):
    with pytest.raises(ShipStationAuthError) as raised:
        await ShipStationClient(stand_in, "wrong", http).warehouses()
    assert raised.value.status == 401
    client = ShipStationClient(stand_in, KEY, http)
    assert [w.name for w in await client.warehouses()] == ["Main", "Samples room"]
    with pytest.raises(ShipStationError) as missing:
        await client.get("se-999")
    assert missing.value.status == 404 and missing.value.code
    assert await client.find_for_order("#1001", "555") == []
