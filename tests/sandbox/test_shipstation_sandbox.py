"""The ShipStation V2 stand-in (sandbox/shipstation/) over real HTTP: Shopify orders imported as shipments after
the import delay, hold / restore and their documented refusals, automatic release on the hold date, tags,
warehouses, updates, API-Key auth, the 200-a-minute limit, faults, and the control API's hooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sandbox.control_api import make_control_app
from sandbox.workspace import SHIPSTATION_KEY, SHOP, make_sandboxes, make_shipstation

MUG = {"title": "Mug", "sku": "MUG-1", "quantity": 2, "price": "12.00"}
ADDRESS = {"first_name": "Sam", "last_name": "Buyer", "address1": "1 Main St", "city": "Austin",
           "province_code": "TX", "zip": "78701", "country_code": "US"}
KEY = {"API-Key": SHIPSTATION_KEY}


class Now:
    """The stand-in's wall clock, moved by hand (`now.at += timedelta(...)`)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def shopify():
    return make_sandboxes()[0]


@pytest.fixture
def ss(shopify, now, clock):
    return make_shipstation(shopify, now=now, clock=clock, import_delay_s=0)


@pytest.fixture
async def api(ss):
    async with TestClient(TestServer(ss.make_app())) as c:
        yield c


def order(shopify, **kw):
    return shopify.create_order(SHOP, line_items=[MUG], shipping_address=ADDRESS, **kw)


async def shipment(api, shipment_id: str) -> dict:
    r = await api.get(f"/v2/shipments/{shipment_id}", headers=KEY)
    assert r.status == 200
    return await r.json()


async def imported(shopify, ss) -> str:
    o = order(shopify)
    s = ss.shipment_for_order(SHOP, o.name)
    assert s is not None
    return s.shipment_id


async def test_an_order_is_imported_after_the_delay_with_what_shopify_knows(shopify, ss, api, clock):
    ss.set_import_delay(5.0)
    o = order(shopify)
    r = await api.get("/v2/shipments", headers=KEY)
    assert (await r.json())["shipments"] == []  # not yet
    clock.t += 5.0
    body = await (await api.get("/v2/shipments", headers=KEY)).json()
    [s] = body["shipments"]
    assert body["total"] == 1 and body["pages"] == 1
    assert s["shipment_number"] == str(o.number) and s["external_shipment_id"] == str(o.legacy_id)
    assert s["shipment_status"] == "pending" and s["hold_until_date"] is None and s["tags"] == []
    main = ss.accounts[SHOP].warehouse_named("Main warehouse")
    assert s["warehouse_id"] == main.warehouse_id
    assert s["ship_to"]["name"] == "Sam Buyer" and s["ship_to"]["postal_code"] == "78701"
    assert [(i["name"], i["quantity"], i["sku"]) for i in s["items"]] == [("Mug", 2, "MUG-1")]
    by_external = await api.get(f"/v2/shipments/external_shipment_id/{o.legacy_id}", headers=KEY)
    assert (await by_external.json())["shipment_id"] == s["shipment_id"]


async def test_never_imported_when_the_delay_is_none(shopify, ss, api, clock):
    ss.set_import_delay(None)
    order(shopify)
    clock.t += 3600
    assert (await (await api.get("/v2/shipments", headers=KEY)).json())["total"] == 0
    missing = await api.get("/v2/shipments/external_shipment_id/123", headers=KEY)
    assert missing.status == 404


async def test_a_wrong_or_missing_key_is_401_in_shipstations_shape(api):
    for headers in ({"API-Key": "nope"}, {}):
        r = await api.get("/v2/shipments", headers=headers)
        assert r.status == 401
        body = await r.json()
        assert body["request_id"] and body["errors"][0]["error_type"] == "security"
        assert set(body["errors"][0]) == {"error_source", "error_type", "error_code", "message"}


async def test_hold_then_hold_again_replaces_the_date(shopify, ss, api):
    sid = await imported(shopify, ss)
    r = await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2026-12-09"}, headers=KEY)
    assert r.status == 204
    s = await shipment(api, sid)
    assert s["shipment_status"] == "on_hold" and s["hold_until_date"] == "2026-12-09T00:00:00Z"
    r = await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2027-01-07T18:30:00Z"}, headers=KEY)
    assert r.status == 204  # the time part is ignored
    assert (await shipment(api, sid))["hold_until_date"] == "2027-01-07T00:00:00Z"
    assert ss.count("hold", shipment_id=sid) == 2


@pytest.mark.parametrize("until", ["2026-12-08", "2026-12-01", "", "next week"])
async def test_a_hold_until_today_or_earlier_or_no_date_is_400(shopify, ss, api, until):
    sid = await imported(shopify, ss)
    r = await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": until}, headers=KEY)
    assert r.status == 400 and (await r.json())["errors"][0]["error_type"] == "validation"
    assert (await shipment(api, sid))["shipment_status"] == "pending" and ss.count("hold") == 0


async def test_a_shipment_with_a_label_or_cancelled_cannot_be_held(shopify, ss, api):
    labelled, cancelled = await imported(shopify, ss), await imported(shopify, ss)
    ss.buy_label(labelled)
    ss.cancel(cancelled)
    for sid in (labelled, cancelled):
        r = await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2026-12-20"}, headers=KEY)
        assert r.status == 400 and (await r.json())["errors"][0]["error_code"] == "invalid_status"
    assert ss.count("hold") == 0


async def test_no_label_while_held(shopify, ss, api):
    sid = await imported(shopify, ss)
    await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2026-12-20"}, headers=KEY)
    with pytest.raises(ValueError, match="on hold"):
        ss.buy_label(sid)


async def test_restore_needs_a_hold(shopify, ss, api):
    sid = await imported(shopify, ss)
    r = await api.put(f"/v2/shipments/{sid}/restore", headers=KEY)
    assert r.status == 400 and (await r.json())["errors"][0]["error_code"] == "invalid_status"
    await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2026-12-20"}, headers=KEY)
    assert (await api.put(f"/v2/shipments/{sid}/restore", headers=KEY)).status == 204
    s = await shipment(api, sid)
    assert s["shipment_status"] == "pending" and s["hold_until_date"] is None
    assert ss.count("restore", shipment_id=sid) == 1


async def test_a_hold_is_released_on_its_date(shopify, ss, api, now):
    sid = await imported(shopify, ss)
    await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2026-12-10"}, headers=KEY)
    now.at += timedelta(days=1)
    assert (await shipment(api, sid))["shipment_status"] == "on_hold"
    now.at += timedelta(days=1)  # 2026-12-10: the date has come
    s = await shipment(api, sid)
    assert s["shipment_status"] == "pending" and s["hold_until_date"] is None
    assert ss.count("release", shipment_id=sid) == 1
    restore = await api.put(f"/v2/shipments/{sid}/restore", headers=KEY)
    assert restore.status == 400  # released: nothing left to restore


async def test_tags_are_created_on_first_use_and_removed_with_204(shopify, ss, api):
    sid = await imported(shopify, ss)
    assert (await (await api.get("/v2/tags", headers=KEY)).json()) == {"tags": []}
    r = await api.post(f"/v2/shipments/{sid}/tags/awaiting-approval", headers=KEY)
    assert r.status == 200 and await r.json() == {"shipment_id": sid, "tag": {"name": "awaiting-approval"}}
    assert (await (await api.get("/v2/tags", headers=KEY)).json()) == {"tags": [{"name": "awaiting-approval"}]}
    assert (await shipment(api, sid))["tags"] == [{"name": "awaiting-approval"}]
    again = await api.post(f"/v2/shipments/{sid}/tags/awaiting-approval", headers=KEY)
    assert again.status == 400 and ss.count("tag_add") == 1
    tagged = await api.get("/v2/shipments", params={"tag": "awaiting-approval"}, headers=KEY)
    assert [s["shipment_id"] for s in (await tagged.json())["shipments"]] == [sid]
    assert (await api.delete(f"/v2/shipments/{sid}/tags/awaiting-approval", headers=KEY)).status == 204
    assert (await shipment(api, sid))["tags"] == []
    assert (await api.delete(f"/v2/shipments/{sid}/tags/awaiting-approval", headers=KEY)).status == 404
    created = await api.post("/v2/tags/approved-sample", headers=KEY)
    assert await created.json() == {"name": "approved-sample"}
    assert (await api.post("/v2/tags/approved-sample", headers=KEY)).status == 400


async def test_warehouses_and_moving_a_shipment_to_another(shopify, ss, api):
    sid = await imported(shopify, ss)
    listed = (await (await api.get("/v2/warehouses", headers=KEY)).json())["warehouses"]
    assert [(w["name"], w["is_default"]) for w in listed] == [("Main warehouse", True), ("Samples room", False)]
    samples = listed[1]["warehouse_id"]
    s = await shipment(api, sid)
    r = await api.put(f"/v2/shipments/{sid}", json={"warehouse_id": samples}, headers=KEY)
    assert r.status == 400  # ship_to is required with it
    r = await api.put(f"/v2/shipments/{sid}", json={"ship_to": s["ship_to"], "warehouse_id": samples,
                                                     "shipment_status": "pending"}, headers=KEY)
    assert r.status == 200 and (await r.json())["warehouse_id"] == samples
    assert (await shipment(api, sid))["ship_from"]["name"] == "Samples room"
    assert ss.count("warehouse", shipment_id=sid) == 1
    for bad in ({"ship_to": s["ship_to"], "warehouse_id": "se-1"},  # not this account's
                {"ship_to": s["ship_to"], "warehouse_id": samples, "shipment_status": "cancelled"},  # read-only
                {"ship_to": s["ship_to"], "warehouse_id": samples, "ship_from": s["ship_from"]}):
        assert (await api.put(f"/v2/shipments/{sid}", json=bad, headers=KEY)).status == 400
    ss.buy_label(sid)
    r = await api.put(f"/v2/shipments/{sid}", json={"ship_to": s["ship_to"], "warehouse_id": samples}, headers=KEY)
    assert r.status == 400 and (await r.json())["errors"][0]["error_code"] == "invalid_status"


async def test_list_filters_only_what_is_documented(shopify, ss, api):
    first, second = await imported(shopify, ss), await imported(shopify, ss)
    await api.put(f"/v2/shipments/{first}/hold", json={"hold_until_date": "2026-12-20"}, headers=KEY)
    assert (await api.get("/v2/shipments", params={"shipment_status": "on_hold"}, headers=KEY)).status == 400
    pending = await (await api.get("/v2/shipments", params={"shipment_status": "pending"}, headers=KEY)).json()
    assert [s["shipment_id"] for s in pending["shipments"]] == [second]
    # shipment_number is no filter: everything comes back, newest first
    everything = await (await api.get("/v2/shipments", params={"shipment_number": "1001"}, headers=KEY)).json()
    assert everything["total"] == 2
    paged = await (await api.get("/v2/shipments", params={"page_size": "1", "page": "2"}, headers=KEY)).json()
    assert paged["pages"] == 2 and len(paged["shipments"]) == 1 and paged["links"]["next"] == {}


async def test_200_requests_a_minute_then_429_with_retry_after(shopify, ss, api, clock):
    for _ in range(200):
        assert (await api.get("/v2/warehouses", headers=KEY)).status == 200
    r = await api.get("/v2/warehouses", headers=KEY)
    assert r.status == 429 and r.headers["Retry-After"] == "60"
    assert (await r.json())["errors"][0]["error_code"] == "rate_limit_exceeded"
    clock.t += 60
    assert (await api.get("/v2/warehouses", headers=KEY)).status == 200


async def test_faults_answer_5xx_and_may_land_anyway(shopify, ss, api):
    sid = await imported(shopify, ss)
    ss.faults.add("5xx", "hold", status=503)
    r = await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2026-12-20"}, headers=KEY)
    assert r.status == 503 and ss.count("hold") == 0
    ss.faults.add("5xx", "hold", after_execute=True)
    r = await api.put(f"/v2/shipments/{sid}/hold", json={"hold_until_date": "2026-12-20"}, headers=KEY)
    assert r.status == 502 and ss.count("hold") == 1  # it landed; the client cannot know
    ss.faults.add("throttled", "get_shipment")
    r = await api.get(f"/v2/shipments/{sid}", headers=KEY)
    assert r.status == 429 and r.headers["Retry-After"]
    assert [c["status"] for c in ss.calls if c["route"] == "hold"] == [503, 502]


async def test_control_api_buys_a_label_sets_the_delay_and_reports_state(shopify, ss, clock):
    slack = make_sandboxes()[1]
    async with TestClient(TestServer(make_control_app(shopify, slack, None, ss))) as control:
        r = await control.post("/shipstation/import_delay", json={"seconds": 30})
        assert r.status == 200 and ss.import_delay_s == 30
        o = order(shopify)
        assert (await control.post("/shipstation/label", json={"order": o.name})).status == 400  # not imported
        clock.t += 30
        r = await control.post("/shipstation/label", json={"order": o.name})
        assert r.status == 200 and (await r.json())["status"] == "label_purchased"
        state = (await (await control.get("/state")).json())["shipstation"]
        [s] = state["shipments"]
        assert s["order"] == o.name and s["status"] == "label_purchased" and s["warehouse"] == "Main warehouse"
        assert state["import_delay_s"] == 30
        assert (await control.post("/shipstation/import_delay", json={"seconds": -1})).status == 400
