"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when DATABASE_URL says so)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from storage.db import normalise_url

ROOT_DIR = Path(__file__).resolve().parents[1]
SHARED = ROOT_DIR.parent / "shared"


def shared_file(*parts: str) -> Path:
    """A file from ../shared, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared (the project's shared test data) is absent")
    return path


@contextlib.asynccontextmanager
async def fresh_database(tmp_path: Path, file: str = "holdfast.db") -> AsyncIterator[str]:
    """A database nobody else uses: a temp SQLite file, or a new PostgreSQL database dropped afterwards."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres", "postgresql")):
        yield f"sqlite+aiosqlite:///{tmp_path / file}"
        return
    import asyncpg

    url = make_url(normalise_url(base))
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"holdfast_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def database_url(tmp_path):
    """A fresh database for the test (fresh_database)."""
    async with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
async def other_database_url(tmp_path):
    """A second fresh database: the one a deployment moved to, or started on by mistake."""
    async with fresh_database(tmp_path, "other.db") as url:
        yield url


@pytest.fixture(scope="session")
def shopify_schema():
    """Shopify's real Admin GraphQL schema (2026-10, the version holdfast pins), parsed once per run."""
    from graphql import build_schema

    # assume_valid: Shopify's own SDL trips graphql-core 3.3's stricter deprecation-consistency rule
    # (e.g. a deprecated Node.id implementation); documents are still fully validated against it.
    return build_schema(shared_file("shopify", "admin-2026-10.graphql").read_text(encoding="utf-8"), assume_valid=True)


@pytest.fixture(scope="session")
def shopify_scopes() -> dict[str, tuple[frozenset[str], str]]:
    """Shopify's required access scopes for Admin API 2026-10: "Type" or "Type.field" -> (scopes any one of which
    grants it, Shopify's requiredAccess text)."""
    import json

    data = json.loads(shared_file("shopify", "admin-2026-10.scopes.json").read_text(encoding="utf-8"))
    return {(i["typeName"] if i["type"] == "type" else f'{i["typeName"]}.{i["fieldName"]}'):
            (frozenset(i["offlineScopes"]), i["requiredAccess"]) for i in data["items"]}
