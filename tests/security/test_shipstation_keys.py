"""ShipStation API keys at rest (issue #20): `holdfast shipstation key` reads the key from stdin only and stores it
sealed (the raw key is nowhere in the database), SHIPSTATION_API_KEYS is sealed the same way, `holdfast
rotate-secrets` re-seals them, and neither the settings' repr nor a client's shows a key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.settings import Settings
from bot.shipstation.client import ShipStationClient
from storage import shipstation
from storage.db import make_engine, make_sessionmaker, migrate, transaction
from storage.secrets import Keyring
from tests.e2e.test_processes import HOLDFAST, ROOT
from tests.security.test_secrets_at_rest import env_for

SHOP = "demo.myshopify.com"
RAW_KEY = "TEST_ShipStationKey_9f8e7d6c5b4a"
NOW = datetime(2026, 12, 8, tzinfo=UTC)


def key() -> str:
    return Fernet.generate_key().decode()


async def run_with_stdin(env: dict[str, str], stdin: bytes, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*HOLDFAST, *args, cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate(stdin)
    return proc.returncode, out.decode()


async def migrated(database_url: str) -> None:
    engine = make_engine(database_url)
    await migrate(engine)
    await engine.dispose()


async def raw_keys(database_url: str) -> dict[str, str]:
    """The key_sealed column read with plain SQL (no model, no keyring)."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return dict((await conn.execute(text("SELECT shop_domain, key_sealed FROM shipstation_keys"))).all())
    finally:
        await engine.dispose()


def database_bytes(database_url: str) -> bytes:
    """Every byte of a SQLite database (with its WAL); b"" on PostgreSQL, where raw_keys is the check."""
    if not database_url.startswith("sqlite"):
        return b""
    path = Path(database_url.split(":///", 1)[1])
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


async def test_the_key_cli_reads_stdin_and_stores_the_key_sealed(database_url):
    await migrated(database_url)
    secret = key()
    env = env_for(database_url, HOLDFAST_SECRET_KEY=secret)
    code, out = await run_with_stdin(env, f"{RAW_KEY}\n".encode(), "shipstation", "key", "--shop", SHOP)
    assert code == 0 and f"ShipStation API key of {SHOP} stored" in out and RAW_KEY not in out, out
    stored = await raw_keys(database_url)
    assert stored[SHOP] != RAW_KEY and Fernet(secret).decrypt(stored[SHOP].encode()).decode() == RAW_KEY
    assert RAW_KEY.encode() not in database_bytes(database_url)  # not in the file, its WAL or a free page
    code, out = await run_with_stdin(env, f"{RAW_KEY}\n".encode(), "shipstation", "key", "--shop", SHOP)
    assert code == 0 and "already stored (unchanged)" in out, out


async def test_the_key_cli_refuses_what_is_not_one_key_on_stdin(database_url):
    await migrated(database_url)
    env = env_for(database_url, HOLDFAST_SECRET_KEY=key())
    cases = [
        (b"", ["shipstation", "key", "--shop", SHOP], 2, "no ShipStation API key on stdin"),
        (b"two words\n", ["shipstation", "key", "--shop", SHOP], 2, "has spaces in it"),
        (b"k\n", ["shipstation", "key", "--shop", "not a shop"], 2, "is not a shop domain"),
        (b"", ["shipstation", "key", "--shop", SHOP, "--key", RAW_KEY], 2, "unrecognized arguments"),  # never argv
    ]
    for stdin, args, want_code, want in cases:
        code, out = await run_with_stdin(env, stdin, *args)
        assert code == want_code and want in out and "Traceback" not in out, (args, out)
    code, out = await run_with_stdin(env_for(database_url), f"{RAW_KEY}\n".encode(), "shipstation", "key",
                                     "--shop", SHOP)
    assert code == 2 and "HOLDFAST_SECRET_KEY is not set" in out, out
    assert await raw_keys(database_url) == {}


async def test_rotate_secrets_reseals_shipstation_keys(database_url):
    await migrated(database_url)
    old, new = key(), key()
    async with transaction(make_sessionmaker(engine := make_engine(database_url))) as session:
        await shipstation.save_key(session, shop=SHOP, sealed=Keyring(current=old).seal(RAW_KEY), now=NOW)
    await engine.dispose()
    proc = await asyncio.create_subprocess_exec(
        *HOLDFAST, "rotate-secrets", cwd=ROOT, env=env_for(database_url, HOLDFAST_SECRET_KEY=new,
                                                           HOLDFAST_SECRET_KEY_PREVIOUS=old),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = (await proc.communicate())[0].decode()
    # The migrations made no shop row: the one stored secret is the ShipStation key.
    assert proc.returncode == 0 and "1 of 1 stored secret(s) re-encrypted" in out, out
    assert Fernet(new).decrypt((await raw_keys(database_url))[SHOP].encode()).decode() == RAW_KEY


def test_neither_the_settings_nor_a_client_show_a_key():
    settings = Settings(shipstation_api_keys=f"{SHOP}={RAW_KEY},Other.myshopify.com=k2")
    assert RAW_KEY not in repr(settings) and RAW_KEY not in str(settings.model_dump())
    assert settings.shipstation_keys() == {SHOP: RAW_KEY, "other.myshopify.com": "k2"}

    async def build() -> str:
        async with aiohttp.ClientSession() as http:
            return repr(ShipStationClient("https://api.shipstation.com", RAW_KEY, http))

    assert RAW_KEY not in asyncio.run(build())
