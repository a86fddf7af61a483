"""A start on an empty or different database never re-holds decided orders (Shopify's side is the record), and
holds nothing created before the shop's history in that database unless told to look back (`--since`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.cli.devstack import SHOP, DevStack
from bot.features.reconcile.service import reconcile_shop
from bot.settings import Settings
from tests.e2e.conftest import ORDINARY, STAFF


async def move_to(stack: DevStack, url: str, **settings) -> None:
    """Restart the bot on another database (a move to PostgreSQL, `serve` started from another directory)."""
    await stack.stop_bot()
    stack.database_url = url
    stack.overrides.update(settings)
    await stack.start_bot()


async def test_a_decided_order_is_not_held_again_by_a_fresh_database(database_url, other_database_url):
    async with DevStack(database_url=database_url, reconcile_grace_s=0) as stack:
        order = await stack.place_order(**STAFF)
        await stack.settle()
        await stack.click(await stack.request_for(order), "request-approve", "U0ANA")
        await stack.settle()
        sandbox_order = stack.shopify.orders[order.gid]
        assert "holdfast-approved" in sandbox_order.tags and all(fo.status == "OPEN"
                                                                  for fo in sandbox_order.fulfillment_orders)
        # Even told to look back a day, the fresh database reads #1001's decision tag and leaves it alone.
        await move_to(stack, other_database_url, reconcile_since=stack.rt.now() - timedelta(days=1))
        report = await reconcile_shop(stack.rt, SHOP)
        await stack.shopify.deliver_webhook(SHOP, "orders/updated", sandbox_order.webhook_body())
        await stack.settle()
        assert report.created == [] and await stack.request_for(order) is None
        assert all(fo.status == "OPEN" and not fo.holds for fo in sandbox_order.fulfillment_orders)
        assert sandbox_order.tags.count("holdfast-pending") == 0


async def test_a_fresh_database_leaves_older_orders_alone_and_says_so(database_url, other_database_url, caplog):
    async with DevStack(database_url=database_url) as stack:
        # An order of a minute ago that never reached holdfast's first database.
        undecided = await stack.place_order(deliver=False, created_at=stack.rt.now() - timedelta(minutes=1), **STAFF)
        await move_to(stack, other_database_url)  # the shop's history here starts now
        caplog.set_level(logging.WARNING, logger="bot.features.reconcile.service")
        report = await reconcile_shop(stack.rt, SHOP)
        await stack.settle()
        assert report.created == [] and report.history == [undecided.name]
        assert not any(fo.holds for fo in stack.shopify.orders[undecided.gid].fulfillment_orders)
        warned = [r.getMessage() for r in caplog.records if "no history of the shop" in r.getMessage()]
        assert warned and "holdfast serve --since" in warned[0] and undecided.name in warned[0]
        assert any(e.kind == "reconcile.history_skipped" for e in await stack.audit_trail())
        newer = await stack.place_order(**ORDINARY | {"customer": STAFF["customer"]})  # after the move: held
        await stack.settle()
        assert (await stack.request_for(newer)) is not None



async def test_since_looks_back_past_the_databases_history(database_url, other_database_url):
    async with DevStack(database_url=database_url) as stack:
        undecided = await stack.place_order(deliver=False, created_at=stack.rt.now() - timedelta(minutes=1), **STAFF)
        # `holdfast serve --since 1d` on the new database: the older order is checked, and held.
        await move_to(stack, other_database_url, reconcile_since=stack.rt.now() - timedelta(days=1))
        report = await reconcile_shop(stack.rt, SHOP)
        await stack.settle()
        assert report.created == [undecided.name] and report.history == []
        assert all(fo.holds for fo in stack.shopify.orders[undecided.gid].fulfillment_orders)


def test_the_default_database_does_not_depend_on_the_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("HOLDFAST_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOLDFAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    here = Settings().database_url
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert Settings().database_url == here == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'holdfast.db'}"
    assert (tmp_path / "data").is_dir()
