"""`holdfast serve` (the web app, and the worker unless --no-worker) and `holdfast worker`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
from datetime import UTC, datetime

from bot.approvals.policies import PolicyError
from bot.cli import exits
from bot.cli.common import database_problem, fail, migrates_at_start, settings_of, url_problem
from bot.settings import Settings
from storage.secrets import SecretKeyError

log = logging.getLogger("holdfast")
PORT_SETTING = "--port / HOLDFAST_PORT or PORT"
HOST_SETTING = "--host / HOLDFAST_HOST"


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web app (Slack + Shopify webhooks) and, unless --no-worker, the job worker."""
    from aiohttp import web

    from bot.app import RUNTIME, create_app

    settings = settings_of(args)
    if missing := settings.missing_for_serve():
        return fail(missing, "Set them in the environment (see README: Environment variables) and start again.")
    if args.socket_mode and not settings.slack_app_token.get_secret_value():
        return fail(["--socket-mode needs SLACK_APP_TOKEN (an xapp-… app-level token with connections:write)."],
                    "Create one under Basic Information → App-Level Tokens, then export SLACK_APP_TOKEN.")
    if args.poll:  # no public URL: Shopify is read by reconciliation every poll_every_s instead of webhooks
        settings = settings.model_copy(update={"poll": True})
    if args.since:  # look further back than this database's history of the shops (a replaced database)
        from bot.approvals.schema import parse_duration

        try:
            since = datetime.now(UTC) - parse_duration(args.since)
        except ValueError:
            return fail([f"--since {args.since!r} is not a duration"], "Give one like 24h, 3d or 90m.")
        settings = settings.model_copy(update={"reconcile_since": since})
    if (code := url_problem(settings)) is not None:  # before create_app builds an engine from it
        return code
    try:
        app = create_app(settings, run_worker=not args.no_worker, socket_mode=args.socket_mode,
                         pid_file=settings.pid_file)
    except PolicyError as exc:
        return fail(exc.problems, f"Fix {settings.config_path} (see `holdfast check`) and start again.")
    except SecretKeyError as exc:
        return fail([str(exc)], "Nothing was started.")
    host, port = args.host or settings.host, args.port or settings.port
    # Both before anything starts: a server that came up would begin its worker and migrations, then stop.
    if (code := database_problem(settings, migrates=migrates_at_start(settings))) is not None:
        return code
    if problem := exits.port_problem(host=host, port=port, setting=PORT_SETTING, host_setting=HOST_SETTING):
        return fail([problem], "", code=exits.PORT_IN_USE)
    log.info("%s", banner(settings, host=host, port=port, worker=not args.no_worker, socket_mode=args.socket_mode,
                         policies=app[RUNTIME].policies))
    try:
        web.run_app(app, host=host, port=port, print=None)
    except SecretKeyError as exc:  # a stored token no configured key opens (found while starting)
        return fail([str(exc)], "holdfast did not start.")
    except OSError as exc:  # taken between the check and the bind
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        return fail([exits.bind_problem(exc, host=host, port=port, setting=PORT_SETTING, host_setting=HOST_SETTING)],
                    "", code=exits.PORT_IN_USE)
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

    settings = settings_of(args)
    if (code := url_problem(settings)) is not None:
        return code
    try:
        rt = build_runtime(settings)
    except PolicyError as exc:
        return fail(exc.problems, f"Fix {settings.config_path} and start again.")
    except SecretKeyError as exc:
        return fail([str(exc)], "Nothing was started.")
    if (code := database_problem(settings, migrates=migrates_at_start(settings))) is not None:
        return code

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
        return fail([str(exc)], "holdfast did not start.")
    return 0
