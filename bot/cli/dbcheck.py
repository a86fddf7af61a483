"""Before a command touches the database: is DATABASE_URL usable? One operator sentence if not, never a traceback."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from bot.cli import exits

# The drivers holdfast runs on (storage/db.py normalise_url maps the plain schemes to them).
SUPPORTED = {("sqlite", "aiosqlite"), ("postgresql", "asyncpg")}
EXAMPLES = "sqlite:////absolute/path/holdfast.db or postgresql://user:password@host:5432/holdfast"
CONNECT_TIMEOUT_S = 10.0  # a firewalled host never refuses: give up on it instead of hanging the command


def _shown(url: str) -> str:
    """The URL as an operator may see it in a message: any password hidden."""
    return re.sub(r"(?<=:)[^:@/]*(?=@)", "***", url)


def parse(database_url: str) -> tuple[URL | None, str | None]:
    """The normalised URL, or the sentence saying why DATABASE_URL is not one holdfast can use."""
    from storage.db import normalise_url

    try:
        url = make_url(normalise_url(database_url))
    except (sa_exc.ArgumentError, ValueError):
        return None, (f"DATABASE_URL {_shown(database_url)!r} is not a database URL: set it to one such as "
                      f"{EXAMPLES}.")
    if url.get_backend_name() == "sqlite" and url.get_driver_name() != "aiosqlite":  # sqlite:// is pysqlite's
        return None, (f"DATABASE_URL {_shown(database_url)!r} names no SQLite file holdfast can open: set it to "
                      f"sqlite:///relative/path.db or sqlite:////absolute/path.db (three or four slashes).")
    if (url.get_backend_name(), url.get_driver_name()) not in SUPPORTED:
        return None, (f"DATABASE_URL uses {url.drivername!r}, which holdfast does not support: set it to a SQLite or "
                      f"PostgreSQL URL such as {EXAMPLES}.")
    return url, None


def _sqlite_file(url: URL) -> Path | None:
    """The SQLite database file, or None for an in-memory database."""
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        return None
    return Path(url.database).expanduser().absolute()


def _cause(error: BaseException) -> BaseException:
    """The driver's error inside SQLAlchemy's wrappers."""
    while isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        error = error.orig
    return error


def reason(error: BaseException) -> str:
    """A short cause for an unreachable database, without the driver's stack of wrappers."""
    error = _cause(error)
    if isinstance(error, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_S:.0f}s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.rstrip(".")


def failure(error: sa_exc.DBAPIError) -> tuple[int, str] | None:
    """(exit code, operator sentence) for a database error met after the start checks: the server went away, or
    a table is missing (a database swapped or rolled back under a running command); None for any other error."""
    cause = _cause(error)
    if error.connection_invalidated or isinstance(cause, OSError | TimeoutError):
        return exits.DATABASE_UNREACHABLE, (f"the database at DATABASE_URL stopped answering ({reason(error)}): "
                                            f"check that it is running, then try again.")
    if "no such table" in str(cause) or type(cause).__name__ == "UndefinedTableError":
        return exits.NOT_MIGRATED, (f"the database at DATABASE_URL lacks a table holdfast needs ({reason(error)}): "
                                    f"run `holdfast migrate`.")
    return None


async def database_problem(database_url: str, *, need_migrated: bool = True) -> str | None:
    """One sentence naming DATABASE_URL and the fix when the database cannot be used; None when it can."""
    found = await diagnose(database_url, need_migrated=need_migrated)
    return found[1] if found else None


async def diagnose(database_url: str, *, need_migrated: bool = True) -> tuple[int, str] | None:
    """(exit code, operator sentence) when the database at DATABASE_URL cannot be used; None when it can.

    Checked in order: the URL parses, its driver is one holdfast runs on, a SQLite file's folder exists, the
    server answers, and the schema is at the newest migration this code ships (skipped with
    `need_migrated=False`, for commands that migrate it themselves: then only a revision this code does not
    know, which a newer holdfast wrote, is refused).
    """
    from storage.db import current_revision, make_engine

    url, problem = parse(database_url)
    if url is None:
        return exits.CONFIG, problem
    if url.get_backend_name() == "sqlite" and (path := _sqlite_file(url)) is not None:
        if not path.parent.is_dir():
            return exits.CONFIG, (f"the folder {path.parent} for DATABASE_URL's SQLite file does not exist: create "
                                  f"it (mkdir -p {path.parent}) or set DATABASE_URL to a file in an existing folder.")
        if path.is_dir():
            return exits.CONFIG, (f"DATABASE_URL names the folder {path}, not a SQLite file: set it to a file in it, "
                                  f"e.g. sqlite:///{path / 'holdfast.db'}.")
        if not os.access(path.parent, os.W_OK | os.X_OK):  # SQLite writes its -wal and -shm files beside the file
            return exits.CONFIG, (f"the folder {path.parent} of DATABASE_URL's SQLite file is not writable by this "
                                  f"user: make it writable or set DATABASE_URL to a file in a folder that is.")
        if not path.exists():  # connecting would create an empty file: say what is missing without doing so
            return None if not need_migrated else (
                exits.NOT_MIGRATED,
                f"the database at DATABASE_URL ({path}) has not been created yet: run `holdfast migrate`.")
    shown = url.render_as_string(hide_password=True)
    engine = make_engine(database_url)
    try:
        try:
            revision = await asyncio.wait_for(current_revision(engine), CONNECT_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - the driver's own errors too (asyncpg: bad password, no database)
            if isinstance(_cause(error), OSError | TimeoutError):
                return exits.DATABASE_UNREACHABLE, (f"cannot reach the database at DATABASE_URL={shown} "
                                                    f"({reason(error)}): start it or set DATABASE_URL to a running "
                                                    f"server, then try again.")
            return exits.DATABASE_UNREACHABLE, (f"the database server at DATABASE_URL={shown} refused holdfast "
                                                f"({reason(error)}): fix DATABASE_URL (user, password, database "
                                                f"name) or create the database, then try again.")
    finally:
        await engine.dispose()
    return _behind(revision, migrating=not need_migrated)


def _behind(revision: str | None, *, migrating: bool) -> tuple[int, str] | None:
    """NOT_MIGRATED and why, unless `revision` is the newest migration this code ships (or, when the command
    is `migrating` the database itself, one it can migrate from)."""
    from alembic.script import ScriptDirectory

    from storage.db import MIGRATIONS, head_revision

    head = head_revision()
    if revision == head:
        return None
    if revision is None:
        return None if migrating else (
            exits.NOT_MIGRATED, "the database at DATABASE_URL has not been migrated yet: run `holdfast migrate`.")
    if revision not in {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}:
        return exits.NOT_MIGRATED, (f"the database at DATABASE_URL is at revision {revision}, which this holdfast "
                                    f"does not know (a newer holdfast migrated it): upgrade holdfast, or set "
                                    f"DATABASE_URL to a database of its own.")
    older = (f"the database at DATABASE_URL is at revision {revision}, older than this holdfast's {head}: run "
             f"`holdfast migrate`.")
    return None if migrating else (exits.NOT_MIGRATED, older)
