"""The `holdfast` commands other than serve, worker and check: migrate, rotate-secrets, jobs, audit export, demo,
sandbox."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import sys

from bot.cli import exits
from bot.cli.common import database_problem, fail, settings_of
from storage.secrets import SecretKeyError

JOBS_HEADING = ("holdfast jobs: the job queue in DATABASE_URL (pending and running jobs, then dead ones that used "
                "every attempt: `holdfast jobs retry ID` re-queues one) and when each periodic job runs next")


def cmd_rotate_secrets(args: argparse.Namespace) -> int:
    """Re-encrypt every stored token with HOLDFAST_SECRET_KEY (after a key rotation)."""
    from bot.cli.secrets import report, rotate

    settings = settings_of(args)
    if (code := database_problem(settings)) is not None:
        return code
    try:
        code, lines = report(asyncio.run(rotate(settings)))
    except SecretKeyError as exc:
        return fail([str(exc)], "Nothing was changed.")
    print("\n".join(lines), file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply database migrations (the Procfile's `release`)."""
    from storage.db import current_revision, make_engine, migrate

    settings = settings_of(args)
    if (code := database_problem(settings, migrates=True)) is not None:
        return code

    async def run() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            await migrate(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database at revision {asyncio.run(run())}")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Export decisions (or, with --events, the audit rows with their hashes) as CSV or JSON lines."""
    from bot.cli.audit import export
    from bot.clock import utcnow
    from bot.reports.query import parse_when

    settings = settings_of(args)
    now = utcnow()
    try:
        since = parse_when(args.since, now) if args.since else None
        until = parse_when(args.until, now, end=True) if args.until else now
    except ValueError as exc:
        return fail([f"--since/--until: {exc}"], "Use a date (2025-03-01), a timestamp, or a period (7d, 2w).")
    if (code := database_problem(settings)) is not None:
        return code
    with contextlib.ExitStack() as stack:
        try:
            out = stack.enter_context(open(args.output, "w", encoding="utf-8", newline="")) if args.output \
                else sys.stdout
        except OSError as exc:
            return fail([f"cannot write --output {args.output}: {exc.strerror}"],
                        "Give a file in a folder you can write.")
        count = asyncio.run(export(settings, out, since=since, until=until, form=args.format, events=args.events))
    print(f"{count} {'audit rows' if args.events else 'decisions'} exported", file=sys.stderr)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Walk the hash chain and hold it to the published checkpoints (bot/cli/verify.py)."""
    from bot.cli import verify

    settings = settings_of(args)
    if (code := database_problem(settings)) is not None:
        return code
    return verify.cmd_audit_verify(args, settings)


def cmd_jobs(args: argparse.Namespace) -> int:
    """Show pending and dead jobs and the next periodic runs."""
    from bot.cli.jobs import show

    settings = settings_of(args)
    if (code := database_problem(settings)) is not None:
        return code
    print("\n".join([JOBS_HEADING, *asyncio.run(show(settings))]))
    return 0


def cmd_jobs_retry(args: argparse.Namespace) -> int:
    """Re-queue a dead job."""
    from bot.cli.jobs import retry

    settings = settings_of(args)
    if (code := database_problem(settings)) is not None:
        return code
    if not asyncio.run(retry(settings, args.id)):
        print(f"job {args.id} is not dead (or does not exist); nothing re-queued", file=sys.stderr)
        return exits.FAILED
    print(f"job {args.id} re-queued")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the self-contained demo (sandbox + bot, no credentials)."""
    import inspect

    from bot.cli.demo import run_demo

    keep = {"keep": args.keep} if args.keep or "keep" in inspect.signature(run_demo).parameters else {}
    return asyncio.run(run_demo(verbose=args.verbose, **keep))


SANDBOX_PORTS = (("shopify_port", "--shopify-port"), ("slack_port", "--slack-port"), ("control_port", "--control-port"),
                 ("shipstation_port", "--shipstation-port"))


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Run the Slack and Shopify stand-ins on local ports for development."""
    from bot.cli.devstack import run_sandbox

    for field, flag in SANDBOX_PORTS:  # the stand-ins listen on loopback (sandbox/devserver.py serve)
        if problem := exits.port_problem(host="127.0.0.1", port=getattr(args, field), setting=flag):
            return fail([problem], "", code=exits.PORT_IN_USE)
    try:
        asyncio.run(run_sandbox(shopify_port=args.shopify_port, slack_port=args.slack_port,
                                control_port=args.control_port, bot_url=args.bot_url,
                                slack_rate_scale=args.slack_rate_scale, shipstation_port=args.shipstation_port))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # taken between the check and the bind
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        flags = ", ".join(flag for _field, flag in SANDBOX_PORTS)
        return fail([f"the sandbox could not listen on its ports ({flags}): {exc.strerror}; choose free ones."],
                    "", code=exits.PORT_IN_USE)
    return 0
