"""What every `holdfast` command shares: its settings, and how it refuses to start (one sentence, an exit code)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli import exits
from bot.settings import Settings


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings from the environment, with the policy file of --config when given."""
    settings = Settings()
    if getattr(args, "config", None):
        settings = settings.model_copy(update={"config_path": Path(args.config)})
    return settings


def fail(lines: list[str], hint: str, *, code: int = exits.CONFIG) -> int:
    """Print the problems and what to do about them on stderr; the exit code."""
    for line in lines:
        print(line, file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)
    return code


def url_problem(settings: Settings) -> int | None:
    """Refuse a DATABASE_URL that is no URL holdfast can use, before anything builds an engine from it."""
    from bot.cli.dbcheck import parse

    _url, problem = parse(settings.database_url)
    return fail([problem], "", code=exits.CONFIG) if problem else None


def database_problem(settings: Settings, *, migrates: bool = False) -> int | None:
    """Refuse a database that does not answer or (unless the command `migrates` it) is not migrated.

    None when the command may go on; else the exit code, its sentence printed.
    """
    from bot.cli.dbcheck import diagnose

    found = asyncio.run(diagnose(settings.database_url, need_migrated=not migrates))
    return fail([found[1]], "", code=found[0]) if found else None


def migrates_at_start(settings: Settings) -> bool:
    """Whether `serve` and `worker` migrate the database themselves (HOLDFAST_AUTO_MIGRATE; default: on SQLite)."""
    from bot.cli.dbcheck import parse

    if settings.auto_migrate is not None:
        return settings.auto_migrate
    url, _problem = parse(settings.database_url)
    return url is not None and url.get_backend_name() == "sqlite"
