"""The composition root: `create_app(settings)` builds the aiohttp app and its resources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics as prometheus
from bot import process_guard as guard
from bot.approvals.effects import JobKind
from bot.approvals.policies import PolicySet
from bot.clock import utcnow
from bot.directory import Directory
from bot.features import jobs as feature_jobs
from bot.features.requests.common import forget, prefetch
from bot.ingest import WebhookBatcher
from bot.jobs.scheduler import Scheduler
from bot.jobs.worker import Worker
from bot.policy_file import load_file
from bot.runtime import Runtime, warn_about
from bot.settings import Settings
from bot.shopify.client import ShopifyClients
from bot.shopify.tokens import Tokens
from bot.slack import build_bolt
from bot.slack_http import make_handler as make_slack_handler
from bot.slack_preflight import log_channel_problems
from handlers import shopify_install, shopify_webhooks
from storage import shipstation as shipstation_keys
from storage import shops
from storage.db import is_sqlite, make_engine, make_sessionmaker, migrate, transaction
from storage.secrets import Keyring

log = logging.getLogger(__name__)
RUNTIME = web.AppKey("runtime", Runtime)


def build_runtime(settings: Settings, *, now: Callable[[], datetime] = utcnow,
                  policies: PolicySet | None = None) -> Runtime:
    """Build the runtime without I/O (the policy file is read and validated here)."""
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    keys = keyring(settings)  # a malformed key stops here, before anything starts (SecretKeyError)

    # No client-side retries: a blind retry of a timed-out chat.postMessage can double-post. Jobs retry
    # instead, and look for the message before posting again.
    slack = AsyncWebClient(token=settings.slack_bot_token.get_secret_value() or None, base_url=settings.slack_api_url,
                           timeout=int(settings.slack_timeout_s), retry_handlers=[])
    # Tokens are renewed on the wall clock, whatever clock the runtime's timers follow (tests move that one).
    tokens = Tokens(sessions=sessions, keys=keys, http=lambda: rt.shopify.session,
                    oauth_url=settings.shopify_oauth_url.rstrip("/"), client_id=settings.shopify_client_id,
                    client_secret=settings.shopify_client_secret.get_secret_value(),
                    install_url=settings.install_url, renew_margin_s=settings.shopify_token_renew_margin_s,
                    timeout_s=settings.shopify_timeout_s, retry_uninstalled_s=settings.shopify_uninstalled_retry_s)
    registry = feature_jobs.registry()
    rt = Runtime(
        settings=settings,
        registry=registry,
        engine=engine,
        sessions=sessions,
        policies=policies or load_file(settings.config_path),
        slack=slack,
        directory=Directory(slack, ttl_s=settings.usergroup_cache_s),
        shopify=ShopifyClients(None, url_template=settings.shopify_admin_url, api_version=settings.shopify_api_version,
                               tokens=tokens, timeout_s=settings.shopify_timeout_s),
        now=now,
    )
    if policies is None:  # a file read here: say what `holdfast check` would warn of
        warn_about(rt.policies)
    order_job = registry.spec(JobKind.PROCESS_ORDER)
    rt.webhooks = WebhookBatcher(engine, sessions, now=lambda: rt.now(), on_commit=rt.wake_worker,
                                 max_attempts=lambda: order_job.max_attempts(rt.settings))
    rt.worker = Worker(rt, registry, concurrency=settings.worker_concurrency,
                       poll_s=settings.worker_poll_s, claim_gap_s=settings.worker_claim_gap_s,
                       lease_s=settings.job_lease_s, backoff_base_s=settings.job_backoff_base_s,
                       backoff_max_s=settings.job_backoff_max_s, timeout_s=settings.job_timeout_s,
                       prefetch=prefetch, forget=forget)
    return rt


def keyring(settings: Settings) -> Keyring:
    """The keys sealing stored tokens (HOLDFAST_SECRET_KEY, …_PREVIOUS); SecretKeyError if one is malformed."""
    return Keyring(current=settings.secret_key.get_secret_value(), previous=settings.previous_secret_keys())


@contextlib.asynccontextmanager
async def resources(rt: Runtime) -> AsyncIterator[None]:
    """Database (migrated on SQLite), configured shops (their tokens sealed with the current key; SecretKeyError
    when there is none, or a stored token no key opens), and the shared HTTP session."""
    auto = rt.settings.auto_migrate
    if auto if auto is not None else is_sqlite(rt.engine):
        await migrate(rt.engine)
    async with transaction(rt.sessions) as session:
        keys = keyring(rt.settings)
        own = rt.settings.own_shops()
        for domain, token in rt.settings.shops().items():
            if domain not in own:  # a shop moved to the Dev Dashboard app: its client credentials win
                await shops.upsert_shop(session, domain=domain, token=token, now=rt.now(), keys=keys)
        for domain in own:  # the first token is fetched when a job needs one
            await shops.ensure_shop(session, domain=domain, grant_type=shops.CLIENT_CREDENTIALS, now=rt.now())
        for domain, key in rt.settings.shipstation_keys().items():  # sealed like the tokens (storage/shipstation.py)
            await shipstation_keys.upsert_key(session, shop=domain, key=key, now=rt.now(), keys=keys)
    async with aiohttp.ClientSession() as http:
        rt.shopify.session = http
        rt.slack.session = http
        rt.shipstation.session = http
        try:
            yield
        finally:
            if rt.webhooks is not None:
                await rt.webhooks.close()
            await rt.engine.dispose()


@contextlib.asynccontextmanager
async def slack_check_task(rt: Runtime) -> AsyncIterator[None]:
    """Once at start, in the background: a policy channel holdfast is not in is logged with its fix."""
    task = asyncio.create_task(log_channel_problems(rt.slack, rt.policies), name="holdfast-slack-check")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def worker_task(rt: Runtime) -> AsyncIterator[None]:
    """Run the job worker beside the web app until shutdown."""
    task = asyncio.create_task(rt.worker.run_forever(), name="holdfast-worker")
    try:
        yield
    finally:
        rt.worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def scheduler_task(rt: Runtime) -> AsyncIterator[None]:
    """Fire the periodic jobs (bot/jobs/scheduler.py); every instance may run this, leases keep one per period."""
    scheduler = Scheduler(rt)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown()


@contextlib.asynccontextmanager
async def reload_on_sighup(rt: Runtime, pid_file: Path | None = None) -> AsyncIterator[None]:
    """Reload policies on SIGHUP (keeping the last good ones on error); publish our pid for `check --reload`."""
    loop = asyncio.get_running_loop()
    ours = guard.claim_pid_file(pid_file) if pid_file else False
    loop.add_signal_handler(signal.SIGHUP, rt.reload_policies)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        if pid_file and ours and guard.pid_in(pid_file) == os.getpid():  # never remove another server's file
            with contextlib.suppress(OSError):
                pid_file.unlink()


def create_app(settings: Settings, *, now: Callable[[], datetime] = utcnow, policies: PolicySet | None = None,
               run_worker: bool | None = None, socket_mode: bool = False,
               pid_file: Path | None = None) -> web.Application:
    """The aiohttp app: /slack/events (bolt), /shopify/webhooks, /shopify/install and /callback, /healthz, /metrics."""
    rt = build_runtime(settings, now=now, policies=policies)
    bolt = build_bolt(rt)
    app = web.Application(client_max_size=shopify_webhooks.MAX_BODY)
    app[RUNTIME] = rt

    slack_events = make_slack_handler(bolt, settings.slack_signing_secret.get_secret_value())

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "policies": len(rt.policies.policies),
                                  "policy_file_hash": rt.policies.file_hash})

    async def metrics(_: web.Request) -> web.Response:
        async with rt.sessions() as session:
            await prometheus.refresh_queue(session)
        body, content_type = prometheus.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    shopify_webhooks.register(app, rt)
    shopify_install.register(app, rt)

    async def _resources(_: web.Application) -> AsyncIterator[None]:
        async with resources(rt):
            yield

    async def _worker(_: web.Application) -> AsyncIterator[None]:
        async with worker_task(rt):
            yield

    async def _socket_mode(_: web.Application) -> AsyncIterator[None]:
        # Slack over a websocket: no public URL needed; the handler reconnects by itself.
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
        await handler.connect_async()
        try:
            yield
        finally:
            await handler.close_async()

    async def _sighup(_: web.Application) -> AsyncIterator[None]:
        async with reload_on_sighup(rt, pid_file):
            yield

    app.cleanup_ctx.append(_resources)
    if settings.slack_bot_token.get_secret_value():

        async def _slack_check(_: web.Application) -> AsyncIterator[None]:
            async with slack_check_task(rt):
                yield

        app.cleanup_ctx.append(_slack_check)
    if pid_file:  # a real `holdfast serve` process (tests run several apps in one process)
        app.cleanup_ctx.append(_sighup)
        guard.warn_if_sqlite_shared(settings.database_url)
    if settings.run_worker if run_worker is None else run_worker:
        app.cleanup_ctx.append(_worker)
    if socket_mode:
        app.cleanup_ctx.append(_socket_mode)
    if settings.run_scheduler:

        async def _scheduler(_: web.Application) -> AsyncIterator[None]:
            async with scheduler_task(rt):
                yield

        app.cleanup_ctx.append(_scheduler)
    return app
