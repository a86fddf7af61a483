"""ShipStation storage (issue #20): migration 0011's tables, the sealed key, the shipment row and the
reconciliation query."""

from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect

from storage import requests, shipstation
from storage.db import make_engine, migrate, transaction
from storage.secrets import Keyring

T0 = datetime(2026, 12, 1, tzinfo=UTC)
SHOP, OTHER = "demo.myshopify.com", "other.myshopify.com"


async def _request(session, n: int, shop: str = SHOP) -> int:
    req = await requests.create(session, shop_domain=shop, order_gid=f"gid://shopify/Order/{n}", order_name=f"#{n}",
                                status="pending", version=0, policy_id="p1", policy_hash="h", reasons=[],
                                order_snapshot={}, channel="C1", created_at=T0, updated_at=T0)
    return req.id


async def test_a_key_is_saved_replaced_and_read_back_per_shop(sessions):
    async with transaction(sessions) as s:
        assert await shipstation.key_for(s, shop=SHOP) is None
        await shipstation.save_key(s, shop=SHOP, sealed="gAAAAA-one", now=T0)
        await shipstation.save_key(s, shop=OTHER, sealed="gAAAAA-other", now=T0)
    async with transaction(sessions) as s:
        await shipstation.save_key(s, shop=SHOP, sealed="gAAAAA-two", now=T0 + timedelta(hours=1))
    async with sessions() as s:
        assert await shipstation.key_for(s, shop=SHOP) == "gAAAAA-two"
        assert await shipstation.key_for(s, shop=OTHER) == "gAAAAA-other"
        assert await shipstation.shops_with_keys(s) == sorted([SHOP, OTHER])


async def test_upsert_creates_then_updates_only_the_fields_given(sessions):
    async with transaction(sessions) as s:
        rid = await _request(s, 1)
        row = await shipstation.upsert(s, request_id=rid, shop=SHOP, now=T0, looked_until=T0 + timedelta(minutes=30))
        assert row.state == "looking" and row.tags == []
    async with transaction(sessions) as s:
        await shipstation.upsert(s, request_id=rid, shop=SHOP, now=T0 + timedelta(minutes=1), state="held",
                                 shipment_id="se-1", hold_until=date(2027, 1, 7), tags=("awaiting-approval",),
                                 warehouse_id="se-9")
    async with sessions() as s:
        row = await shipstation.get(s, request_id=rid)
        assert (row.state, row.shipment_id, row.hold_until, row.tags, row.warehouse_id) == (
            "held", "se-1", date(2027, 1, 7), ["awaiting-approval"], "se-9")
        assert row.looked_until is not None  # kept: not among the fields of the second write
        assert await shipstation.get(s, request_id=rid + 100) is None


@pytest.mark.parametrize(("fields", "error"), [
    ({"state": "lost"}, ValueError),  # not one of the contract's states
    ({"colour": "red"}, TypeError),  # not a column
])
async def test_upsert_refuses_what_the_table_cannot_mean(sessions, fields, error):
    async with transaction(sessions) as s:
        rid = await _request(s, 1)
        with pytest.raises(error):
            await shipstation.upsert(s, request_id=rid, shop=SHOP, now=T0, **fields)


async def test_pending_for_reconcile_lists_the_shops_rows_in_motion_oldest_first(sessions):
    async with transaction(sessions) as s:
        states = {1: "held", 2: "looking", 3: "routed", 4: "not_found", 5: "held", 6: "kept"}
        for n, state in states.items():
            rid = await _request(s, n)
            await shipstation.upsert(s, request_id=rid, shop=SHOP, now=T0 - timedelta(minutes=n), state=state)
        other = await _request(s, 7, OTHER)
        await shipstation.upsert(s, request_id=other, shop=OTHER, now=T0, state="held")
    async with sessions() as s:
        rows = await shipstation.pending_for_reconcile(s, shops=[SHOP], limit=10)
        assert [r.state for r in rows] == ["held", "looking", "held"]  # #5, #2, #1: oldest update first
        assert [r.request_id for r in rows] == sorted((r.request_id for r in rows), reverse=True)
        assert len(await shipstation.pending_for_reconcile(s, shops=[SHOP], limit=2)) == 2
        assert len(await shipstation.pending_for_reconcile(s, shops=[SHOP, OTHER], limit=10)) == 4
        assert await shipstation.pending_for_reconcile(s, shops=[], limit=10) == []


async def test_migration_0011_makes_both_tables_on_a_fresh_database(database_url):
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("shipstation_shipments")})
            fks = await conn.run_sync(lambda c: inspect(c).get_foreign_keys("shipstation_shipments"))
    finally:
        await engine.dispose()
    assert {"shipstation_keys", "shipstation_shipments"} <= tables
    assert columns == {"request_id", "shop_domain", "shipment_id", "state", "hold_until", "warehouse_id", "tags",
                       "detail", "looked_until", "updated_at"}
    assert [(fk["referred_table"], fk["referred_columns"]) for fk in fks] == [("approval_request", ["id"])]


async def test_upsert_key_seals_and_writes_again_only_a_changed_or_stale_key(sessions):
    old_key = Fernet.generate_key().decode()
    old = Keyring(current=old_key)
    async with transaction(sessions) as s:
        assert await shipstation.upsert_key(s, shop=SHOP, key="KEY-1", now=T0, keys=old) is True
    async with transaction(sessions) as s:
        assert await shipstation.upsert_key(s, shop=SHOP, key="KEY-1", now=T0, keys=old) is False  # the same key
        sealed = await shipstation.key_for(s, shop=SHOP)
        assert sealed != "KEY-1" and old.open(sealed).value == "KEY-1"
    async with transaction(sessions) as s:
        assert await shipstation.upsert_key(s, shop=SHOP, key="KEY-2", now=T0, keys=old) is True  # changed
        assert old.open(await shipstation.key_for(s, shop=SHOP)).value == "KEY-2"
    newer = Keyring(current=Fernet.generate_key().decode(), previous=[old_key])  # after a rotation: stale
    async with transaction(sessions) as s:
        assert await shipstation.upsert_key(s, shop=SHOP, key="KEY-2", now=T0, keys=newer) is True  # re-sealed
        assert newer.open(await shipstation.key_for(s, shop=SHOP)).stale is False


async def test_reseal_all_seals_stale_keys_with_the_current_key(sessions):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with transaction(sessions) as s:
        await shipstation.save_key(s, shop=SHOP, sealed=Keyring(current=first).seal("KEY-1"), now=T0)
        await shipstation.save_key(s, shop=OTHER, sealed="plaintext-of-an-older-holdfast", now=T0)
    now = Keyring(current=second, previous=[first])
    async with transaction(sessions) as s:
        done = await shipstation.reseal_all(s, keys=now)
    assert (done.read, done.resealed, done.unreadable) == (2, 2, [])
    async with sessions() as s:
        for shop, want in ((SHOP, "KEY-1"), (OTHER, "plaintext-of-an-older-holdfast")):
            opened = Keyring(current=second).open(await shipstation.key_for(s, shop=shop))
            assert (opened.value, opened.stale) == (want, False)
