"""The `holdfast` command: serve, worker, migrate, rotate-secrets, check, demo, sandbox, audit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot import logctx
from bot.approvals.policies import PolicyError
from bot.cli import policy
from bot.cli import verify as verify_cli
from bot.policy_file import load_file
from bot.settings import Settings
from storage.secrets import SecretKeyError

log = logging.getLogger("holdfast")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "config", None):
        settings = settings.model_copy(update={"config_path": Path(args.config)})
    return settings


def _fail(lines: list[str], hint: str) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    print(hint, file=sys.stderr)
    return 2


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web app (Slack + Shopify webhooks) and, unless --no-worker, the job worker."""
    from aiohttp import web

    from bot.app import RUNTIME, create_app

    settings = _settings(args)
    if missing := settings.missing_for_serve():
        return _fail(missing, "Set them in the environment (see README: Environment variables) and start again.")
    if args.socket_mode and not settings.slack_app_token.get_secret_value():
        return _fail(["--socket-mode needs SLACK_APP_TOKEN (an xapp-… app-level token with connections:write)."],
                     "Create one under Basic Information → App-Level Tokens, then export SLACK_APP_TOKEN.")
    if args.poll:  # no public URL: Shopify is read by reconciliation every poll_every_s instead of webhooks
        settings = settings.model_copy(update={"poll": True})
    if args.since:  # look further back than this database's history of the shops (a replaced database)
        from bot.approvals.schema import parse_duration

        try:
            since = datetime.now(UTC) - parse_duration(args.since)
        except ValueError:
            return _fail([f"--since {args.since!r} is not a duration"], "Give one like 24h, 3d or 90m.")
        settings = settings.model_copy(update={"reconcile_since": since})
    try:
        app = create_app(settings, run_worker=not args.no_worker, socket_mode=args.socket_mode,
                         pid_file=settings.pid_file)
    except PolicyError as exc:
        return _fail(exc.problems, f"Fix {settings.config_path} (see `holdfast check`) and start again.")
    except SecretKeyError as exc:
        return _fail([str(exc)], "Nothing was started.")
    host, port = args.host or settings.host, args.port or settings.port
    log.info("%s", banner(settings, host=host, port=port, worker=not args.no_worker, socket_mode=args.socket_mode,
                         policies=app[RUNTIME].policies))
    try:
        web.run_app(app, host=host, port=port, print=None)
    except SecretKeyError as exc:  # a stored token no configured key opens (found while starting)
        return _fail([str(exc)], "holdfast did not start.")
    log.info("holdfast serve stopped (pid %s)", os.getpid())
    return 0


def banner(settings: Settings, *, host: str, port: int, worker: bool, socket_mode: bool, policies) -> str:
    """One line at start: where it listens, the policy file and its hash, the database, the mode."""
    from sqlalchemy.engine import make_url

    from storage.db import normalise_url

    try:
        database = make_url(normalise_url(settings.database_url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - shown, not used: an unparsable URL fails with its own message later
        database = "(unparsable DATABASE_URL)"
    shops = ", ".join(settings.own_shops() + list(settings.shops())) or "shops installed through /shopify/install"
    mode = " + ".join(filter(None, ["Slack over Socket Mode" if socket_mode else "Slack events over HTTP",
                                    "Shopify by polling" if settings.poll else "Shopify webhooks",
                                    "worker" if worker else "no worker"]))
    return (f"holdfast serve (pid {os.getpid()}) listening on http://{host}:{port}; policies {settings.config_path} "
            f"({len(policies.policies)}, hash {policies.file_hash[:12]}); database {database}; shops {shops}; {mode}")


def cmd_worker(args: argparse.Namespace) -> int:
    """Run only the job worker (the Procfile's `worker`)."""
    from bot.app import build_runtime, reload_on_sighup, resources, scheduler_task

    settings = _settings(args)
    try:
        rt = build_runtime(settings)
    except PolicyError as exc:
        return _fail(exc.problems, f"Fix {settings.config_path} and start again.")
    except SecretKeyError as exc:
        return _fail([str(exc)], "Nothing was started.")

    if settings.worker_metrics_port:  # the worker's own /metrics (its job counters and latencies)
        from prometheus_client import start_http_server

        try:
            start_http_server(settings.worker_metrics_port, addr=settings.host)
            log.info("holdfast worker (pid %s): metrics on http://%s:%s/metrics", os.getpid(), settings.host,
                     settings.worker_metrics_port)
        except OSError as exc:
            log.warning("holdfast worker: no metrics (port %s: %s); set HOLDFAST_WORKER_METRICS_PORT to a free "
                        "port, or 0 for none", settings.worker_metrics_port, exc.strerror)

    async def run() -> None:
        async with resources(rt), reload_on_sighup(rt), contextlib.AsyncExitStack() as stack:
            if settings.run_scheduler:
                await stack.enter_async_context(scheduler_task(rt))
            # SIGTERM (a deploy, a scale-down) lets running jobs finish instead of cutting them off mid-call.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, rt.worker.stop)
            await rt.worker.run_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except SecretKeyError as exc:  # no key while SHOPIFY_SHOPS has tokens to store, or a token no key opens
        return _fail([str(exc)], "holdfast did not start.")
    return 0


def cmd_rotate_secrets(args: argparse.Namespace) -> int:
    """Re-encrypt every stored token with HOLDFAST_SECRET_KEY (after a key rotation)."""
    from bot.cli.secrets import report, rotate

    try:
        code, lines = report(asyncio.run(rotate(_settings(args))))
    except SecretKeyError as exc:
        return _fail([str(exc)], "Nothing was changed.")
    print("\n".join(lines), file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply database migrations (the Procfile's `release`)."""
    from storage.db import current_revision, make_engine, migrate

    settings = _settings(args)

    async def run() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            await migrate(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database at revision {asyncio.run(run())}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the policy file; one line per problem, non-zero exit when invalid."""
    settings = _settings(args)
    try:
        policies = load_file(settings.config_path)
    except PolicyError as exc:
        return _fail(exc.problems, f"{len(exc.problems)} problem(s); nothing was changed.")
    for p in policies.policies:
        state = "" if p.enabled else " (disabled)"
        print(f"ok  {p.id}{state}: priority {p.priority}, channel {p.channel}, {len(p.approvers.users)} approver(s)")
    print(f"{settings.config_path}: {len(policies.policies)} policies, file hash {policies.file_hash[:12]}")
    if getattr(args, "online", False):
        from bot.cli.online import check_online

        if code := check_online(settings, policies):
            return code
    if getattr(args, "reload", False):
        from bot.cli.policy import send_reload

        sent, said = send_reload(settings.pid_file)
        print(said, file=sys.stdout if sent else sys.stderr)
        if not sent:  # the file is valid, but nothing reloaded it: a script must be able to tell
            return 1
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Export decisions (or, with --events, the audit rows with their hashes) as CSV or JSON lines."""
    from bot.cli.audit import export
    from bot.clock import utcnow
    from bot.reports.query import parse_when

    settings = _settings(args)
    now = utcnow()
    try:
        since = parse_when(args.since, now) if args.since else None
        until = parse_when(args.until, now, end=True) if args.until else now
    except ValueError as exc:
        return _fail([f"--since/--until: {exc}"], "Use a date (2025-03-01), a timestamp, or a period (7d, 2w).")
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        count = asyncio.run(export(settings, out, since=since, until=until, form=args.format, events=args.events))
    finally:
        if args.output:
            out.close()
    print(f"{count} {'audit rows' if args.events else 'decisions'} exported", file=sys.stderr)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    """Show pending and dead jobs and the next periodic runs."""
    from bot.cli.jobs import show

    print("\n".join(asyncio.run(show(_settings(args)))))
    return 0


def cmd_jobs_retry(args: argparse.Namespace) -> int:
    """Re-queue a dead job."""
    from bot.cli.jobs import retry

    if not asyncio.run(retry(_settings(args), args.id)):
        print(f"job {args.id} is not dead (or does not exist); nothing re-queued", file=sys.stderr)
        return 1
    print(f"job {args.id} re-queued")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the self-contained demo (sandbox + bot, no credentials)."""
    from bot.cli.demo import run_demo

    return asyncio.run(run_demo(verbose=args.verbose))


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Run the Slack and Shopify stand-ins on local ports for development."""
    from bot.cli.devstack import run_sandbox

    try:
        asyncio.run(run_sandbox(shopify_port=args.shopify_port, slack_port=args.slack_port, control_port=args.control_port,
                                bot_url=args.bot_url, slack_rate_scale=args.slack_rate_scale))
    except KeyboardInterrupt:
        pass
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="holdfast", description="Slack-first approval workflows for Shopify orders.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the web app and the worker")
    s.add_argument("--host"), s.add_argument("--port", type=int)
    s.add_argument("--socket-mode", action="store_true", help="Slack over Socket Mode (no public URL needed)")
    s.add_argument("--no-worker", action="store_true", help="web only; run `holdfast worker` separately")
    s.add_argument("--poll", action="store_true", help="no Shopify webhooks: poll Shopify by reconciliation")
    s.add_argument("--since", metavar="DURATION",
                   help="check orders created this long ago too (e.g. 24h), though this database has no history of "
                        "them (default: only orders created after the shop's install here)")
    s.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run only the job worker").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("rotate-secrets", help="re-encrypt stored tokens with HOLDFAST_SECRET_KEY (after a key rotation)"
                   ).set_defaults(func=cmd_rotate_secrets)
    j = sub.add_parser("jobs", help="pending and dead jobs, next periodic runs")
    j.set_defaults(func=cmd_jobs)
    retry = j.add_subparsers(dest="jobs_command").add_parser("retry", help="re-queue a dead job")
    retry.add_argument("id", type=int), retry.set_defaults(func=cmd_jobs_retry)
    policy.add_parsers(sub, _settings)
    c = sub.add_parser("check", help="validate the policy file")
    c.add_argument("--config", help="policy file (default: HOLDFAST_CONFIG or holdfast.yml)")
    c.add_argument("--reload", action="store_true", help="if valid, tell the running server to reload it (SIGHUP)")
    c.add_argument("--online", action="store_true", help="also ask Slack: is holdfast in every policy channel, do the "
                   "approvers and user groups exist (exit 1 with one line per problem)")
    c.set_defaults(func=cmd_check)
    a = sub.add_parser("audit", help="audit log tools").add_subparsers(dest="audit_command", required=True)
    v = a.add_parser("verify", help="walk the hash chain and hold it to the published checkpoints")
    v.add_argument("--checkpoints", metavar="FILE",
                   help="checkpoint lines to check (default: HOLDFAST_AUDIT_CHECKPOINT_FILE; lines copied from the "
                        "Slack channel work too)")
    v.set_defaults(func=lambda a: verify_cli.cmd_audit_verify(a, _settings(a)))
    e = a.add_parser("export", help="decisions (or --events: audit rows) between two dates, to stdout or --output")
    e.add_argument("--since", help="a date (2025-03-01), a timestamp, or a period back from now (7d); default: all")
    e.add_argument("--until", help="a date (inclusive), a timestamp, or a period back from now; default: now")
    e.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    e.add_argument("--events", action="store_true", help="the raw hash-chained audit rows instead of decisions")
    e.add_argument("--output", "-o", help="write to this file instead of stdout")
    e.add_argument("--config", help="policy file, for SLAs (default: HOLDFAST_CONFIG or holdfast.yml)")
    e.set_defaults(func=cmd_audit_export)
    sub.add_parser("demo", help="self-contained demo: sandbox + bot, no credentials").set_defaults(func=cmd_demo)
    sb = sub.add_parser("sandbox", help="run the Slack and Shopify stand-ins for local development")
    sb.add_argument("--shopify-port", type=int, default=8081), sb.add_argument("--slack-port", type=int, default=8082)
    sb.add_argument("--control-port", type=int, default=8083, help="POST /orders, GET /messages, POST /click")
    sb.add_argument("--bot-url", default="http://127.0.0.1:3000", help="where the sandbox sends webhooks and clicks")
    sb.add_argument("--slack-rate-scale", type=float, default=1.0,
                    help="run Slack's rate tiers this many times faster (default 1: Slack's own limits)")
    sb.set_defaults(func=cmd_sandbox)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `holdfast` console script."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format=logctx.FORMAT)
    logctx.install()  # job and request ids on every line
    if not args.verbose:
        # apscheduler's "Adding job tentatively" at every start says nothing an operator can act on.
        for noisy in ("aiohttp.access", "slack_bolt", "alembic", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return args.func(args)
