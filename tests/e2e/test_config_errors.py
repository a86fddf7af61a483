"""A configuration mistake gets one sentence naming the setting and the fix, and its own exit code; no traceback.

Most cases call `bot.cli.main.main(argv)` in this process (the command as the console script runs it); the ones a
supervisor or a shell meets first (an unreachable database, a taken port) run the real `python -m bot.cli`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest

from bot.cli import exits
from bot.cli.main import main
from storage.db import head_revision, make_engine, migrate
from tests.e2e.test_processes import HOLDFAST, ROOT, new_key

SERVE_ENV = {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SHOPIFY_API_SECRET": "s",
             "SHOPIFY_SHOPS": "a.myshopify.com=t", "HOLDFAST_CONFIG": str(ROOT / "holdfast.example.yml")}
DB_COMMANDS = (["jobs"], ["jobs", "retry", "1"], ["audit", "verify"], ["audit", "export"], ["rotate-secrets"])


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """Run `holdfast ARGV` with these environment variables; (exit code, stderr)."""
    monkeypatch.chdir(tmp_path)  # a relative SQLite path lands here, not in the checkout
    monkeypatch.setenv("HOLDFAST_PID_FILE", "")
    monkeypatch.setenv("HOLDFAST_SECRET_KEY", new_key())

    def run(*argv: str, **env: str) -> tuple[int, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(list(argv))
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return code, err

    return run


def one_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err  # one line, nothing else (no log lines from a server that began starting)
    return lines[0]


def proc(*argv: str, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*HOLDFAST, *argv], cwd=ROOT, env={**os.environ, "HOLDFAST_PID_FILE": "", **env},
                          capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in done.stderr + done.stdout
    return done


@pytest.mark.parametrize("argv", [["jobs"], ["migrate"], ["worker"], ["serve"], ["audit", "export"]])
def test_an_unparsable_database_url_is_named(cli, argv):
    code, err = cli(*argv, DATABASE_URL="holdfast.db", **SERVE_ENV)
    assert code == exits.CONFIG
    assert one_sentence(err) == ("DATABASE_URL 'holdfast.db' is not a database URL: set it to one such as "
                                 "sqlite:////absolute/path/holdfast.db or postgresql://user:password@host:5432/holdfast.")


@pytest.mark.parametrize("argv", [["jobs"], ["migrate"], ["serve"]])
def test_an_unsupported_driver_is_named_without_its_password(cli, argv):
    code, err = cli(*argv, DATABASE_URL="mysql://holdfast:hunter2@db.example/holdfast", **SERVE_ENV)
    assert code == exits.CONFIG
    said = one_sentence(err)
    assert said.startswith("DATABASE_URL uses 'mysql', which holdfast does not support: set it to a SQLite or "
                           "PostgreSQL URL") and "hunter2" not in said


@pytest.mark.parametrize("argv", [["jobs"], ["migrate"], ["worker"], ["serve"]])
def test_a_sqlite_file_in_a_missing_folder_is_named(cli, tmp_path, argv):
    folder = tmp_path / "not" / "made"
    code, err = cli(*argv, DATABASE_URL=f"sqlite:///{folder}/holdfast.db", **SERVE_ENV)
    assert code == exits.CONFIG
    assert one_sentence(err) == (f"the folder {folder} for DATABASE_URL's SQLite file does not exist: create it "
                                 f"(mkdir -p {folder}) or set DATABASE_URL to a file in an existing folder.")
    assert not folder.exists()  # said, not made


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def test_an_unreachable_postgresql_is_named_by_the_real_command():
    url = f"postgresql://holdfast:hunter2@127.0.0.1:{closed_port()}/holdfast"
    for argv in (["jobs"], ["migrate"], ["audit", "verify"]):
        done = proc(*argv, DATABASE_URL=url)
        assert done.returncode == exits.DATABASE_UNREACHABLE, done.stderr
        said = one_sentence(done.stderr)
        assert said.startswith("cannot reach the database at DATABASE_URL=postgresql+asyncpg://holdfast:***@127.0.0.1:")
        assert "(connection refused): start it or set DATABASE_URL to a running server" in said
        assert "hunter2" not in said


@pytest.mark.parametrize("argv", DB_COMMANDS)
def test_a_database_never_migrated_asks_for_holdfast_migrate(cli, database_url, argv):
    code, err = cli(*argv, DATABASE_URL=database_url)
    assert code == exits.NOT_MIGRATED
    assert one_sentence(err).endswith(": run `holdfast migrate`.")


def test_serve_and_worker_without_auto_migration_ask_for_holdfast_migrate(cli, database_url):
    for argv in (["serve"], ["worker"]):
        code, err = cli(*argv, DATABASE_URL=database_url, HOLDFAST_AUTO_MIGRATE="false", **SERVE_ENV)
        assert code == exits.NOT_MIGRATED
        assert one_sentence(err).endswith(": run `holdfast migrate`.")


def test_an_older_schema_names_both_revisions_and_migrate_mends_it(cli, database_url):
    async def to_0005() -> None:
        engine = make_engine(database_url)
        try:
            await migrate(engine, "0005")
        finally:
            await engine.dispose()

    asyncio.run(to_0005())
    code, err = cli("jobs", DATABASE_URL=database_url)
    assert code == exits.NOT_MIGRATED
    assert one_sentence(err) == (f"the database at DATABASE_URL is at revision 0005, older than this holdfast's "
                                 f"{head_revision()}: run `holdfast migrate`.")
    assert cli("migrate", DATABASE_URL=database_url)[0] == 0
    code, err = cli("jobs", DATABASE_URL=database_url)  # the same command, once migrated, runs
    assert code == 0 and err == ""


@pytest.fixture
def taken_port():
    """A port something else listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_serve_on_a_taken_port_names_the_setting(cli, tmp_path, taken_port):
    url = f"sqlite+aiosqlite:///{tmp_path / 'holdfast.db'}"
    code, err = cli("serve", "--host", "127.0.0.1", "--port", str(taken_port), DATABASE_URL=url, **SERVE_ENV)
    assert code == exits.PORT_IN_USE
    assert one_sentence(err) == (f"port {taken_port} on 127.0.0.1 is already in use (--port / HOLDFAST_PORT or "
                                 f"PORT): stop the process listening there (e.g. `lsof -i :{taken_port}`) or choose "
                                 f"a free port.")


def test_serve_on_a_taken_port_from_the_environment_by_the_real_command(tmp_path, taken_port):
    done = proc("serve", DATABASE_URL=f"sqlite:///{tmp_path / 'holdfast.db'}", HOLDFAST_HOST="127.0.0.1",
                HOLDFAST_PORT=str(taken_port), HOLDFAST_SECRET_KEY=new_key(), **SERVE_ENV)
    assert done.returncode == exits.PORT_IN_USE, done.stderr
    assert f"port {taken_port} on 127.0.0.1 is already in use (--port / HOLDFAST_PORT or PORT)" in done.stderr


@pytest.mark.parametrize("flag", ["--shopify-port", "--slack-port", "--control-port"])
def test_sandbox_on_a_taken_port_names_the_flag(cli, taken_port, flag):
    ports = {"--shopify-port": closed_port(), "--slack-port": closed_port(), "--control-port": closed_port(),
             flag: taken_port}
    code, err = cli("sandbox", *[str(part) for pair in ports.items() for part in pair])
    assert code == exits.PORT_IN_USE
    assert one_sentence(err).startswith(f"port {taken_port} on 127.0.0.1 is already in use ({flag}): ")


def test_a_setting_of_the_wrong_kind_is_named(cli):
    code, err = cli("jobs", HOLDFAST_WORKER_CONCURRENCY="many")
    assert code == exits.CONFIG
    assert one_sentence(err).startswith("HOLDFAST_WORKER_CONCURRENCY='many': input should be a valid integer")


def test_the_exit_codes_are_documented_in_the_help():
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0
    for code in (exits.CONFIG, exits.DATABASE_UNREACHABLE, exits.NOT_MIGRATED, exits.PORT_IN_USE):
        assert f"\n  {code}  " in done.stdout


async def test_a_database_error_after_the_start_checks_is_named_or_left_a_bug(tmp_path):
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    from bot.cli.dbcheck import failure

    async def error_of(url: str, sql: str) -> sa_exc.DBAPIError:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        except sa_exc.DBAPIError as error:
            return error
        finally:
            await engine.dispose()
        raise AssertionError(f"{sql} ran")

    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'holdfast.db'}"
    code, said = failure(await error_of(sqlite, "SELECT * FROM job"))
    assert code == exits.NOT_MIGRATED and said.endswith("(no such table: job): run `holdfast migrate`.")
    assert failure(await error_of(sqlite, "SELEC 1")) is None  # a malformed statement is a bug: its traceback stays


async def test_a_postgresql_connection_lost_mid_command_is_named(database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("a server to lose: set DATABASE_URL=postgresql://… to run this")
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    from bot.cli.dbcheck import failure

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with engine.connect() as other:  # the server ends the first session, as a restart would
                await other.execute(text(f"SELECT pg_terminate_backend({pid})"))
            with pytest.raises(sa_exc.DBAPIError) as lost:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    code, said = failure(lost.value)
    assert code == exits.DATABASE_UNREACHABLE and said.startswith("the database at DATABASE_URL stopped answering")


def test_a_sqlite_url_naming_a_folder_is_named(cli, tmp_path):
    code, err = cli("jobs", DATABASE_URL=f"sqlite:///{tmp_path}")
    assert code == exits.CONFIG
    assert one_sentence(err) == (f"DATABASE_URL names the folder {tmp_path}, not a SQLite file: set it to a file in "
                                 f"it, e.g. sqlite:///{tmp_path / 'holdfast.db'}.")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into any folder")
def test_a_sqlite_file_in_a_read_only_folder_is_named(cli, tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    code, err = cli("serve", DATABASE_URL=f"sqlite:///{folder}/holdfast.db", **SERVE_ENV)
    assert code == exits.CONFIG
    assert one_sentence(err).startswith(f"the folder {folder} of DATABASE_URL's SQLite file is not writable")
