"""Engine, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.writer import WriterLock

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_OPTION = "holdfast_write"  # execution option marking a connection's transaction as one that writes
# Every SQLite connection holdfast opens (SQLAlchemy's, and the one kept for webhook batches).
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON")
IDLE_PING_S = 5.0  # a pooled PostgreSQL connection idle this long is pinged before it is handed out


def normalise_url(url: str) -> str:
    """Map plain driver URLs (postgres://, postgresql://, sqlite://) to their async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def is_sqlite(engine: AsyncEngine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> AsyncEngine:
    """Create the async engine; on SQLite use WAL and take the write lock when a transaction begins."""
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=10, max_overflow=10)
        ping_when_idle(engine, idle_s=IDLE_PING_S)
        return engine
    engine = create_async_engine(url, connect_args={"timeout": 30})
    # aiosqlite logs every statement WITH its parameters at DEBUG (the shop's access token among them), so
    # `holdfast -v` or any DEBUG root logger would write secrets to the logs: keep its tracing off.
    if logging.getLogger("aiosqlite").getEffectiveLevel() < logging.INFO:
        logging.getLogger("aiosqlite").setLevel(logging.INFO)

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        # Autocommit at the driver so our "begin" hook controls the transaction mode.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn):  # pragma: no cover
        # A write transaction (see `transaction`) takes the write lock up front with IMMEDIATE, so a
        # read-then-write (audit chain, compare-and-set) never fails halfway with SQLITE_BUSY on a stale
        # snapshot. Anything else only reads, and under WAL a deferred reader never waits for a writer.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")

    return engine


def ping_when_idle(engine: AsyncEngine, *, idle_s: float) -> None:
    """Ping a pooled connection before handing it out, but only one that sat idle for `idle_s` or longer.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: on asyncpg that is three round trips (BEGIN, `;`,
    ROLLBACK) before each transaction, a third of all the round trips an order cost and ~15% of the machine's
    CPU in bench.e2e. A server restart or an idle timeout is what kills pooled connections, and it finds the
    idle ones; a connection that ran a statement a moment ago is alive. One killed in between fails its one
    operation (a job retries it; the disconnect makes the pool drop every connection older than it).
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _checkin(_dbapi_conn, record):
        record.info["holdfast_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _checkout(dbapi_conn, record, _proxy):
        since = record.info.get("holdfast_idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return  # just connected, or used a moment ago
        try:
            dbapi_conn.ping()
        except Exception as error:  # the pool discards it and hands out a fresh connection instead
            raise exc.DisconnectionError(f"pooled connection idle {time.monotonic() - since:.0f}s is gone") from error


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory whose objects stay usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


_writers: weakref.WeakKeyDictionary[Any, WriterLock] = weakref.WeakKeyDictionary()


def writer_lock(sessions: async_sessionmaker[AsyncSession], *,
                background: bool = False) -> contextlib.AbstractAsyncContextManager[Any]:
    """This process's turn to write on SQLite (a no-op on PostgreSQL)."""
    engine = sessions.kw.get("bind")
    if engine is None or not is_sqlite(engine):
        return contextlib.nullcontext()
    # SQLite has one writer at a time, and a writer waiting in busy_timeout polls with sleeps of up to
    # 100 ms: queueing this process's writers on a lock hands it over at once instead.
    return _writers.setdefault(engine.sync_engine, WriterLock()).hold(background=background)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession], *,
                      background: bool = False) -> AsyncIterator[AsyncSession]:
    """One unit of work that writes: commit on success, roll back on any error.

    `background` (the worker's own bookkeeping) lets writes someone is waiting for go first on SQLite.
    """
    async with writer_lock(sessions, background=background):
        async with sessions() as session:
            async with session.begin():
                await session.connection(execution_options={WRITE_OPTION: True})
                yield session


_autocommit: weakref.WeakKeyDictionary[Any, async_sessionmaker[AsyncSession]] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession], *,
                     background: bool = False) -> AsyncIterator[AsyncSession]:
    """A session whose statements each commit on their own, for work made of statements that stand alone.

    On PostgreSQL that saves the BEGIN and COMMIT round trips around them (a job claim, finishing a job that
    writes nothing else). On SQLite, where they cost no round trip and a writer must take the write lock, it
    is `transaction`.
    """
    engine = sessions.kw.get("bind")
    if engine is None or is_sqlite(engine):
        async with transaction(sessions, background=background) as session:
            yield session
        return
    maker = _autocommit.get(engine.sync_engine)
    if maker is None:  # same pool; the pool puts the isolation level back when the connection returns
        maker = _autocommit[engine.sync_engine] = make_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"))
    async with maker() as session:
        yield session


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply Alembic migrations up to `revision` on this engine."""

    def _upgrade(sync_conn) -> None:
        cfg = _alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision() -> str:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


async def schema_drift(engine: AsyncEngine) -> list:
    """Differences between the migrated database and the models (empty when migrations are complete)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401

    def _diff(conn) -> list:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)

    async with engine.connect() as conn:
        return await conn.run_sync(_diff)
