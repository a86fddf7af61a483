"""Tokens at rest: sealed with HOLDFAST_SECRET_KEY (Fernet), rotation with HOLDFAST_SECRET_KEY_PREVIOUS, plaintext
rows of an older holdfast sealed at the next start, and neither repr() of the settings nor of a Shop row shows a token."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.blocks.ids import ActionId
from bot.cli.devstack import DevStack
from bot.cli.secrets import rotate
from bot.settings import Settings
from bot.shopify.client import ShopifyError
from sandbox.devserver import SHOP, SHOP_TOKEN
from storage import shops
from storage.db import make_engine, make_sessionmaker, migrate, transaction
from storage.models import Shop
from storage.secrets import MAKE_KEY, Keyring, Opened, SecretKeyError
from tests.e2e.conftest import STAFF
from tests.e2e.test_processes import ROOT, free_port, run

OTHER = "other.myshopify.com"  # a shop whose row no configuration rewrites (as an OAuth-installed shop's will be)


def key() -> str:
    return Fernet.generate_key().decode()


async def raw_tokens(database_url: str) -> dict[str, str]:
    """What the access_token column holds, read with plain SQL (no model, no keyring)."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return dict((await conn.execute(text("SELECT domain, access_token FROM shop"))).all())
    finally:
        await engine.dispose()


async def write_raw(database_url: str, domain: str, stored: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO shop (domain, access_token, created_at) VALUES (:d, :t, :c)"),
                               {"d": domain, "t": stored, "c": datetime(2026, 12, 1, tzinfo=UTC)})
    finally:
        await engine.dispose()


async def held(stack: DevStack) -> None:
    """An order goes through: the bot opened the sealed token and Shopify (the sandbox) accepted it."""
    order = await stack.place_order(**STAFF)
    await stack.settle()
    req = await stack.request_for(order)
    assert req is not None and req.hold_state == "placed", req
    assert all(fo.status == "ON_HOLD" for fo in stack.shopify.orders[order.gid].fulfillment_orders)


# --- the keyring ----------------------------------------------------------------------------------------------

def test_a_value_is_sealed_with_the_current_key_and_older_keys_only_open():
    old, new = key(), key()
    sealed_old = Keyring(current=old).seal("shpat_abc")
    assert sealed_old.startswith("gAAAAA") and "shpat_abc" not in sealed_old
    ring = Keyring(current=new, previous=[key(), old])
    assert ring.open(sealed_old).value == "shpat_abc" and ring.open(sealed_old).stale
    resealed = ring.seal("shpat_abc")
    assert Fernet(new).decrypt(resealed.encode()) == b"shpat_abc"  # written with the current key, always
    assert not ring.open(resealed).stale
    assert ring.open("shpat_plain") == Opened("shpat_plain", stale=True)  # a row of an older holdfast


def test_a_value_no_key_opens_is_one_sentence_naming_both_settings():
    sealed = Keyring(current=key()).seal("shpat_abc")
    with pytest.raises(SecretKeyError) as caught:
        Keyring(current=key(), previous=[key()]).open(sealed, what=f"the access token of {SHOP}")
    message = str(caught.value)
    assert message.startswith(f"the access token of {SHOP} was encrypted with a key")
    assert "HOLDFAST_SECRET_KEY " in message and "HOLDFAST_SECRET_KEY_PREVIOUS" in message and "\n" not in message
    with pytest.raises(SecretKeyError, match="is encrypted but HOLDFAST_SECRET_KEY is not set"):
        Keyring(current="").open(sealed)


def test_a_missing_or_malformed_key_says_how_to_make_one_and_never_echoes_it():
    with pytest.raises(SecretKeyError) as caught:
        Keyring(current="").seal("shpat_abc")
    assert str(caught.value).startswith("HOLDFAST_SECRET_KEY is not set") and MAKE_KEY in str(caught.value)
    for current, previous, setting in (("not-a-key-42", [], "HOLDFAST_SECRET_KEY "),
                                       (key(), ["not-a-key-42"], "HOLDFAST_SECRET_KEY_PREVIOUS ")):
        with pytest.raises(SecretKeyError) as caught:
            Keyring(current=current, previous=previous)
        assert setting in str(caught.value) and "not-a-key-42" not in str(caught.value)


def test_previous_keys_are_a_comma_separated_list():
    a, b = key(), key()
    settings = Settings(secret_key=key(), secret_key_previous=f" {a}, {b} ,")
    assert settings.previous_secret_keys() == [a, b]


# --- repr() never shows a token -----------------------------------------------------------------------------

def test_repr_of_the_settings_and_of_a_shop_row_shows_no_token(monkeypatch):
    secret_key = key()
    monkeypatch.setenv("SHOPIFY_SHOPS", f"{SHOP}=shpat_repr_secret_1,{OTHER}=shpat_repr_secret_2")
    monkeypatch.setenv("HOLDFAST_SECRET_KEY", secret_key)
    monkeypatch.setenv("HOLDFAST_SECRET_KEY_PREVIOUS", "previous-key-secret")
    settings = Settings()
    assert settings.shops() == {SHOP: "shpat_repr_secret_1", OTHER: "shpat_repr_secret_2"}  # legacy path works
    assert settings.secret_key.get_secret_value() == secret_key
    for shown in (repr(settings), str(settings), str(settings.model_dump())):
        assert "shpat_repr" not in shown and secret_key not in shown and "previous-key-secret" not in shown
    row = Shop(domain=SHOP, access_token="shpat_repr_secret_1")
    assert "shpat_repr" not in repr(row) and "shpat_repr" not in str(row) and SHOP in repr(row)
    assert "shpat_repr" not in repr(Keyring(current=secret_key)) and secret_key not in repr(Keyring(current=secret_key))


# --- in the database ----------------------------------------------------------------------------------------

async def test_the_column_holds_ciphertext_and_the_bot_still_holds_orders(database_url):
    async with DevStack(database_url=database_url, legacy_token=True) as stack:
        stored = (await raw_tokens(database_url))[SHOP]
        assert stored.startswith("gAAAAA") and SHOP_TOKEN not in stored
        assert Fernet(stack.secret_key).decrypt(stored.encode()).decode() == SHOP_TOKEN
        await held(stack)


async def test_a_plaintext_row_of_an_older_holdfast_is_sealed_at_the_next_start(database_url):
    engine = make_engine(database_url)
    await migrate(engine, "0006")  # the schema before tokens were sealed, with the row an older holdfast wrote
    await engine.dispose()
    await write_raw(database_url, SHOP, SHOP_TOKEN)
    async with DevStack(database_url=database_url, legacy_token=True) as stack:  # migrates to head, then seals the configured shop
        assert (await raw_tokens(database_url))[SHOP].startswith("gAAAAA")
        await held(stack)


async def test_key_rotation_keeps_old_rows_readable_and_rotate_secrets_reseals_them(database_url):
    async with DevStack(database_url=database_url, legacy_token=True) as stack:
        old, new = stack.secret_key, key()  # the configured shop is sealed with `old`
        await write_raw(database_url, OTHER, Keyring(current=old).seal("shpat_other"))
        before = await raw_tokens(database_url)

        await stack.stop_bot()
        stack.overrides.update(secret_key=new, secret_key_previous=old)
        await stack.start_bot()
        after = await raw_tokens(database_url)
        # The configured shop is written again at start, with the current key; the other row still needs `old`.
        assert Fernet(new).decrypt(after[SHOP].encode()).decode() == SHOP_TOKEN
        assert after[OTHER] == before[OTHER]
        async with stack.rt.sessions() as session:
            both = Keyring(current=new, previous=[old])
            assert await shops.shop_token(session, domain=OTHER, keys=both) == "shpat_other"
        await held(stack)

        done = await rotate(stack.settings())
        # Read: the two shop tokens and the stack's ShipStation key (sealed again at start, like the configured shop).
        assert (done.read, done.resealed, done.unreadable) == (3, 1, [])
        assert (await rotate(stack.settings())).resealed == 0  # nothing left under the old key
        rotated = await raw_tokens(database_url)
        assert Fernet(new).decrypt(rotated[OTHER].encode()) == b"shpat_other"

        await stack.stop_bot()
        stack.overrides.update(secret_key_previous="")  # the old key retired
        await stack.start_bot()
        await held(stack)


async def test_a_token_under_an_unknown_key_fails_its_job_with_one_sentence(database_url):
    async with DevStack(database_url=database_url, legacy_token=True) as stack:
        await write_raw(database_url, OTHER, Keyring(current=key()).seal("shpat_other"))
        with pytest.raises(ShopifyError) as caught:
            await stack.rt.shopify.get(OTHER)
        assert str(caught.value).startswith(f"the access token of {OTHER} was encrypted with a key that is neither")
        assert "shpat_other" not in str(caught.value)
        done = await rotate(stack.settings())
        assert done.unreadable == [OTHER] and done.resealed == 0  # left as it is, reported
        await held(stack)  # the configured shop is unaffected


async def test_a_token_is_stored_only_with_a_key(database_url):
    settings = Settings(database_url=database_url, shopify_shops=f"{SHOP}={SHOP_TOKEN}")
    engine = make_engine(database_url)
    await migrate(engine)
    try:
        with pytest.raises(SecretKeyError, match="^HOLDFAST_SECRET_KEY is not set"):
            async with transaction(make_sessionmaker(engine)) as session:
                await shops.upsert_shop(session, domain=SHOP, token=SHOP_TOKEN, now=datetime.now(UTC),
                                        keys=Keyring(current=""))
        assert settings.missing_for_serve()[-1].startswith("HOLDFAST_SECRET_KEY is not set")
    finally:
        await engine.dispose()
    assert await raw_tokens(database_url) == {}


# --- the real command --------------------------------------------------------------------------------------

def env_for(database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(ROOT / "holdfast.example.yml"),
           "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SHOPIFY_API_SECRET": "s",
           "SHOPIFY_SHOPS": f"{SHOP}={SHOP_TOKEN}", "HOLDFAST_AUTO_MIGRATE": "true", "HOLDFAST_PID_FILE": "",
           "HOLDFAST_RUN_SCHEDULER": "false", **extra}
    for name in ("HOLDFAST_SECRET_KEY", "HOLDFAST_SECRET_KEY_PREVIOUS"):
        if name not in extra:
            env.pop(name, None)
    return env


async def test_serve_refuses_without_a_key_or_with_a_token_no_key_opens(database_url):
    code, out = await run(env_for(database_url), "serve", "--port", str(free_port()))
    assert code == 2 and "Traceback" not in out
    assert "HOLDFAST_SECRET_KEY is not set" in out and MAKE_KEY in out

    engine = make_engine(database_url)
    await migrate(engine)
    await engine.dispose()
    await write_raw(database_url, SHOP, Keyring(current=key()).seal(SHOP_TOKEN))  # written under a lost key
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        code, out = await run(env_for(database_url, HOLDFAST_SECRET_KEY=key()), *command)
        assert code == 2 and "Traceback" not in out, out
        line = next(x for x in out.splitlines() if "encrypted" in x)
        assert line.startswith(f"the access token of {SHOP} was encrypted with a key that is neither "
                               "HOLDFAST_SECRET_KEY nor in HOLDFAST_SECRET_KEY_PREVIOUS"), out
    code, out = await run(env_for(database_url, HOLDFAST_SECRET_KEY="short"), "serve")
    assert code == 2 and "HOLDFAST_SECRET_KEY is not a Fernet key" in out and "Traceback" not in out


async def test_rotate_secrets_command(database_url):
    old, new = key(), key()
    engine = make_engine(database_url)
    await migrate(engine)
    await engine.dispose()
    await write_raw(database_url, SHOP, Keyring(current=old).seal(SHOP_TOKEN))
    await write_raw(database_url, OTHER, "shpat_plaintext_of_an_older_holdfast")
    code, out = await run(env_for(database_url), "rotate-secrets")
    assert code == 2 and "HOLDFAST_SECRET_KEY is not set" in out
    code, out = await run(env_for(database_url, HOLDFAST_SECRET_KEY=new, HOLDFAST_SECRET_KEY_PREVIOUS=old),
                          "rotate-secrets")
    assert code == 0 and "2 of 2 stored secret(s) re-encrypted" in out and "can be unset" in out, out
    stored = await raw_tokens(database_url)
    assert Fernet(new).decrypt(stored[SHOP].encode()).decode() == SHOP_TOKEN
    assert Fernet(new).decrypt(stored[OTHER].encode()) == b"shpat_plaintext_of_an_older_holdfast"
    code, out = await run(env_for(database_url, HOLDFAST_SECRET_KEY=key()), "rotate-secrets")
    assert code == 1 and f"{SHOP}, {OTHER}" in out and "Traceback" not in out, out


async def test_an_approval_still_releases_after_a_rotation(database_url):
    """The whole flow across a key change: hold under one key, release under the next."""
    async with DevStack(database_url=database_url, legacy_token=True) as stack:
        order = await stack.place_order(**STAFF)
        await stack.settle()
        old = stack.secret_key
        await stack.stop_bot()
        stack.overrides.update(secret_key=key(), secret_key_previous=old)
        await stack.start_bot()
        req = await stack.request_for(order)
        status, _ = await stack.decide(req, ActionId.APPROVE, "U0ANA")
        assert status == 200
        await stack.settle()
        assert all(fo.status == "OPEN" for fo in stack.shopify.orders[order.gid].fulfillment_orders)
