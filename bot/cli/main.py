"""The `holdfast` command: its argument parser and entry point (the commands live in bot/cli/commands.py,
serve.py, policy.py, verify.py)."""

from __future__ import annotations

import argparse
import logging
import sys

from bot import logctx
from bot.approvals.policies import PolicyError
from bot.cli import exits, policy
from bot.cli import send as send_cli
from bot.cli.commands import (
    cmd_audit_export,
    cmd_audit_verify,
    cmd_demo,
    cmd_jobs,
    cmd_jobs_retry,
    cmd_migrate,
    cmd_rotate_secrets,
    cmd_sandbox,
)
from bot.cli.common import fail as _fail
from bot.cli.common import settings_of as _settings
from bot.cli.help import Parser, finish, version
from bot.cli.serve import banner, cmd_serve, cmd_worker
from bot.policy_file import load_file

__all__ = ["banner", "cmd_serve", "cmd_worker", "main", "parser"]
log = logging.getLogger("holdfast")


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the policy file; one line per problem, non-zero exit when invalid."""
    settings = _settings(args)
    try:
        policies = load_file(settings.config_path)
    except PolicyError as exc:
        return _fail(exc.problems, f"{len(exc.problems)} problem(s).")
    for p in policies.policies:
        state = "" if p.enabled else " (disabled)"
        print(f"ok  {p.id}{state}: priority {p.priority}, channel {p.channel}, {len(p.approvers.users)} approver(s)")
    for warning in policies.warnings:  # valid, so still exit 0: a warning is advice, not a failure
        print(warning, file=sys.stderr)
    warned = f", {len(policies.warnings)} warning(s)" if policies.warnings else ""
    print(f"{settings.config_path}: {len(policies.policies)} policies{warned}, file hash {policies.file_hash[:12]}")
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



def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = Parser(prog="holdfast", description="Slack-first approval workflows for Shopify orders.",
               epilog=exits.EPILOG)
    p.add_argument("--version", action="version", version=f"holdfast {version()}", help="print the version and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging (also after the command: serve -v)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the web app and the worker",
                       description="Run the web app (Slack events, Shopify webhooks and installs, /healthz, "
                                   "/metrics) and, unless --no-worker, the job worker.")
    s.add_argument("--host", help="address to listen on (default: HOLDFAST_HOST, else 0.0.0.0)")
    s.add_argument("--port", type=int, help="port to listen on (default: HOLDFAST_PORT or PORT, else 3000)")
    s.add_argument("--socket-mode", action="store_true", help="Slack over Socket Mode (no public URL needed)")
    s.add_argument("--no-worker", action="store_true", help="web only; run `holdfast worker` separately")
    s.add_argument("--poll", action="store_true", help="no Shopify webhooks: poll Shopify by reconciliation")
    s.add_argument("--since", metavar="DURATION",
                   help="check orders created this long ago too (e.g. 24h), though this database has no history of "
                        "them (default: only orders created after the shop's install here)")
    s.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run only the job worker",
                   description="Run only the job worker (and the periodic jobs' scheduler): the Procfile's worker."
                   ).set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations",
                   description="Migrate the database at DATABASE_URL to this version's schema (the Procfile's "
                               "release step; serve and worker do it themselves on SQLite)."
                   ).set_defaults(func=cmd_migrate)
    sub.add_parser("rotate-secrets", help="re-encrypt stored tokens with HOLDFAST_SECRET_KEY (after a key rotation)"
                   ).set_defaults(func=cmd_rotate_secrets)
    j = sub.add_parser("jobs", help="list the job queue: pending, running and dead jobs, and the next periodic runs",
                       description="List the jobs in DATABASE_URL's queue: pending and running ones, dead ones (every "
                                   "attempt failed; `jobs retry ID` re-queues one), and when each periodic job "
                                   "(reconciliation, reports, retention, …) runs next.")
    j.set_defaults(func=cmd_jobs)
    retry = j.add_subparsers(dest="jobs_command", metavar="COMMAND").add_parser("retry", help="re-queue a dead job")
    retry.add_argument("id", type=int, help="the dead job's id (the first column of `holdfast jobs`)")
    retry.set_defaults(func=cmd_jobs_retry)
    policy.add_parsers(sub, _settings)
    from bot.cli import doctor  # `holdfast doctor` (bot/cli/doctor.py)

    doctor.add_parsers(sub, _settings)
    from bot.cli import shipstation as shipstation_cli  # `holdfast shipstation key` (bot/cli/shipstation.py)

    shipstation_cli.add_parsers(sub, _settings)
    c = sub.add_parser("check", help="validate the policy file")
    c.add_argument("--config", help="policy file (default: HOLDFAST_CONFIG or holdfast.yml)")
    c.add_argument("--reload", action="store_true", help="if valid, tell the running server to reload it (SIGHUP)")
    c.add_argument("--online", action="store_true", help="also ask Slack: is holdfast in every policy channel, do the "
                   "approvers and user groups exist; and ShipStation, for shops with a key: do the warehouses and "
                   "tags of shipstation: blocks exist (exit 1 with one line per problem)")
    c.set_defaults(func=cmd_check)
    a = sub.add_parser("audit", help="audit log tools").add_subparsers(dest="audit_command", required=True,
                                                                       metavar="COMMAND")
    v = a.add_parser("verify", help="walk the hash chain and hold it to the published checkpoints")
    v.add_argument("--checkpoints", metavar="FILE",
                   help="checkpoint lines to check (default: HOLDFAST_AUDIT_CHECKPOINT_FILE; lines copied from the "
                        "Slack channel work too)")
    v.set_defaults(func=cmd_audit_verify)
    e = a.add_parser("export", help="decisions (or --events: audit rows) between two dates, to stdout or --output")
    e.add_argument("--since", help="a date (2025-03-01), a timestamp, or a period back from now (7d); default: all")
    e.add_argument("--until", help="a date (inclusive), a timestamp, or a period back from now; default: now")
    e.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="CSV with a header row, or JSON lines")
    e.add_argument("--events", action="store_true", help="the raw hash-chained audit rows instead of decisions")
    e.add_argument("--output", "-o", help="write to this file instead of stdout")
    e.add_argument("--config", help="policy file, for SLAs (default: HOLDFAST_CONFIG or holdfast.yml)")
    e.set_defaults(func=cmd_audit_export)
    d = sub.add_parser("demo", help="self-contained demo: sandbox + bot, no credentials")
    d.add_argument("--keep", metavar="DIR", help="keep the demo's database in DIR so `holdfast audit verify` and "
                   "`audit export` can be tried on it (default: a temporary folder, removed at the end)")
    d.set_defaults(func=cmd_demo)
    sb = sub.add_parser("sandbox", help="run the Slack and Shopify stand-ins for local development")
    sb.add_argument("--shopify-port", type=int, default=8081, help="the Shopify stand-in's port (Admin API, OAuth)")
    sb.add_argument("--slack-port", type=int, default=8082, help="the Slack stand-in's port (Web API)")
    sb.add_argument("--control-port", type=int, default=8083, help="POST /orders, GET /messages, POST /click")
    sb.add_argument("--shipstation-port", type=int, default=8084, help="the ShipStation stand-in's port (V2 API)")
    sb.add_argument("--bot-url", default="http://127.0.0.1:3000", help="where the sandbox sends webhooks and clicks")
    sb.add_argument("--slack-rate-scale", type=float, default=1.0,
                    help="run Slack's rate tiers this many times faster (1: Slack's own limits)")
    sb.set_defaults(func=cmd_sandbox)
    send_cli.add_parser(sb)  # `holdfast sandbox send FILE`: a signed webhook to a running holdfast
    return finish(p)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `holdfast` console script."""
    from pydantic import ValidationError
    from sqlalchemy import exc as sa_exc

    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format=logctx.FORMAT)
    logctx.install()  # job and request ids on every line
    if not args.verbose:
        # apscheduler's "Adding job tentatively" at every start says nothing an operator can act on.
        for noisy in ("aiohttp.access", "slack_bolt", "alembic", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except ValidationError as exc:  # a setting of the wrong kind, e.g. HOLDFAST_PORT=abc
        return _fail([_setting_error(error) for error in exc.errors()], "")
    except sa_exc.DBAPIError as exc:  # after the start checks: the server went away, a table is gone
        from bot.cli.dbcheck import failure

        if (found := failure(exc)) is None:
            raise  # not the operator's to fix: a bug, worth its traceback
        return _fail([found[1]], "", code=found[0])


def _setting_error(error: dict) -> str:
    name = str(error["loc"][0]) if error.get("loc") else "a setting"
    variable = name if name.isupper() else f"HOLDFAST_{name.upper()}"
    secret = any(word in name.lower() for word in ("secret", "token", "key", "password"))
    shown = variable if secret else f"{variable}={error.get('input')!r}"  # a malformed secret is still a secret
    return f"{shown}: {error['msg'][0].lower()}{error['msg'][1:]}; fix it in the environment and start again."
