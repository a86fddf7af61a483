"""Prometheus metrics (prometheus_client, https://prometheus.github.io/client_python/): what holdfast did, per
process. The web process serves them at /metrics; `holdfast worker` on HOLDFAST_WORKER_METRICS_PORT.

Counters and histograms are kept in memory as things happen; only the job queue's depth is read from the database
at a scrape, and only the rows still waiting (pending, running, dead): never a count of the whole jobs table.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Job

JOBS = Counter("holdfast_jobs_finished", "Job runs by kind and outcome (done, failed, dead, cancelled)",
               ["kind", "outcome"])
JOB_SECONDS = Histogram("holdfast_job_seconds", "How long one run of a job took, by kind", ["kind"],
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
QUEUE = Gauge("holdfast_job_queue", "Jobs waiting, running or dead, by kind and status", ["kind", "status"])
STATUS = Gauge("holdfast_jobs", "Jobs waiting, running or dead, by status", ["status"])
SLACK_ACK = Histogram("holdfast_slack_ack_seconds", "From a Slack request's arrival to holdfast's answer",
                      buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5))
SLACK_RATE_LIMITED = Counter("holdfast_slack_rate_limited", "Slack Web API calls answered 429, by method", ["method"])
SHOPIFY_THROTTLED = Counter("holdfast_shopify_throttled", "Admin API replies THROTTLED, by shop", ["shop"])
SHOPIFY_COST = Counter("holdfast_shopify_query_cost", "Admin API cost points actually spent, by operation",
                       ["operation"])
WEBHOOKS = Counter("holdfast_webhooks", "Shopify webhooks received, by topic and outcome (stored, duplicate, "
                   "refused)", ["topic", "outcome"])
WAITING = ("pending", "running", "dead")


async def refresh_queue(session: AsyncSession) -> None:
    """Read the queue's depth: a grouped count of the waiting rows only (the status index serves it)."""
    rows = (await session.exec(select(Job.kind, Job.status, func.count()).where(col(Job.status).in_(WAITING))
                               .group_by(Job.kind, Job.status))).all()
    QUEUE.clear()
    totals = dict.fromkeys(WAITING, 0)
    for kind, status, n in rows:
        QUEUE.labels(kind=kind, status=status).set(n)
        totals[status] += n
    for status, n in totals.items():
        STATUS.labels(status=status).set(n)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
