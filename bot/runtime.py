"""Runtime resources shared by handlers and jobs, built once by the composition root."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals.policies import PolicyError, PolicySet
from bot.clock import utcnow
from bot.directory import Directory
from bot.ingest import WebhookBatcher
from bot.jobs.pacing import Pacer
from bot.jobs.registry import Registry
from bot.jobs.worker import Worker
from bot.policy_file import load_file
from bot.settings import Settings
from bot.shipstation.accounts import Accounts
from bot.shopify.client import ShopifyClients
from storage import jobs as job_rows
from storage.models import Job
from storage.requests import Loaded

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a handler or job needs: settings, database, policies, API clients, the clock."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    policies: PolicySet
    slack: AsyncWebClient
    shopify: ShopifyClients
    directory: Directory
    registry: Registry  # every job kind, declared by the features (bot/features/jobs.py)
    now: Callable[[], datetime] = utcnow
    worker: Worker | None = field(default=None)
    webhooks: WebhookBatcher | None = field(default=None)
    # This process's view of each Slack channel's posting schedule (bot/jobs/pacing.py).
    pacer: Pacer = field(init=False)
    # What the worker's claim loaded for each running job, by job id (bot/features/requests/common.py `prefetch`).
    loaded: dict[int, Loaded] = field(default_factory=dict)
    # ShipStation (issue #20, bot/shipstation/accounts.py): the shared HTTP session and each account's request budget.
    shipstation: Accounts = field(default_factory=Accounts)

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.settings.slack_post_rate, self.settings.slack_post_burst)

    def enqueue(self, session: AsyncSession, kind: str, *, key: str, payload: dict[str, Any] | None = None,
                run_at: datetime | None = None) -> Job:
        """Queue a job in the caller's transaction; its tries come from its kind's JobSpec."""
        spec = self.registry.spec(kind)  # UnknownJobKind: nothing would ever run it
        return job_rows.enqueue(session, kind=kind, key=key, now=self.now(), payload=payload, run_at=run_at,
                                max_attempts=spec.max_attempts(self.settings))

    def wake_worker(self) -> None:
        """Nudge the in-process worker after committing jobs."""
        if self.worker is not None:
            self.worker.wake()

    def reload_policies(self) -> list[str]:
        """Reload the policy file; on error keep the last good policies and return the problems."""
        try:
            self.policies = load_file(self.settings.config_path)
        except PolicyError as exc:
            log.error("policy reload failed; keeping the policies in force:\n%s", exc)
            return exc.problems
        log.info("policies reloaded: %d policies, file hash %s", len(self.policies.policies), self.policies.file_hash[:12])
        warn_about(self.policies)
        return []


def warn_about(policies: PolicySet) -> None:
    """Log what `holdfast check` warns of (valid, but probably not what was meant), once per load."""
    for line in policies.warnings:
        log.warning("%s", line)
