"""How a job talks to Slack: failures mapped for the worker, posts paced per channel, waits deferred.

A Slack 429 means Slack did nothing, so it is a wait, not a failure: `Deferred`. Executors wrapped in
`deferrable` then go back to the queue for the wait without spending an attempt, so a burst of posts to one
channel cannot run a job out of attempts; chat.postMessage is paced per channel (bot/jobs/pacing.py) so that
the 429s are rare in the first place.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.jobs.errors import Deferred, GiveUp, RetryLater
from bot.jobs.registry import Apply, Executor
from bot.runtime import Runtime
from storage import jobs
from storage.models import Job

MAX_IN_SLOT_WAIT_S = 2.0  # a job waits this long at most for its slot; beyond, it goes back to the queue
MAX_IN_SLOT_TRIES = 5  # ... and asks this many times at most (others may take the room it waited for)
JOB_EVENT = "holdfast_job"  # message metadata naming the job that posted it
FIND_PAGES = 10  # history pages (200 messages each) searched for an earlier attempt's post: a flood is long
INVITE = "/invite @holdfast"  # the bot user's name in manifest.yml (features.bot_user.display_name)


def retry_after(exc: SlackApiError) -> float | None:
    """The Retry-After of a Slack 429 (None when it is not one)."""
    if exc.response.status_code != 429 and exc.response.get("error") != "ratelimited":
        return None
    return float(exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after") or 1)


def _channel_of(exc: SlackApiError) -> str | None:
    """The channel the refused call was about, from the request slack_sdk sent (JSON, form or query)."""
    sent = getattr(exc.response, "req_args", None) or {}
    for part in ("json", "data", "params"):
        args = sent.get(part)
        if isinstance(args, dict) and (args.get("channel") or args.get("channel_id")):
            return str(args.get("channel") or args.get("channel_id"))
    return None


def refusal(exc: SlackApiError) -> str:
    """Slack's refusal as an operator reads it in the dead-job audit row and the log: what happened, what to do.

    not_in_channel: a bot posts and reads only where it is a member (https://docs.slack.dev/reference/methods/
    chat.postMessage); channel_not_found also answers for a private channel the bot is not in. missing_scope names
    the scope in `needed` (https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/type-aliases/
    ChatPostMessageResponse)."""
    error, channel = exc.response.get("error"), _channel_of(exc)
    if error == "not_in_channel" and channel:
        return (f"Slack said not_in_channel: holdfast is not a member of <#{channel}>; invite the app: {INVITE} in "
                f"<#{channel}>, then re-run this job (holdfast jobs retry)")
    if error == "channel_not_found" and channel:
        return (f"Slack said channel_not_found: {channel} does not exist, or is private and holdfast is not in it. "
                f"Check the channel id in the policy file, or invite the app: {INVITE} in it")
    if error == "missing_scope":
        return (f"Slack said missing_scope: the bot token lacks {exc.response.get('needed')}. Add it to manifest.yml "
                f"(oauth_config.scopes.bot) and reinstall the app")
    return f"Slack said {error}"


def _method(exc: SlackApiError) -> str:
    url = getattr(exc.response, "api_url", "") or ""
    return url.rstrip("/").rsplit("/", 1)[-1] or "unknown"


def _failure(exc: Exception) -> Exception:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        wait = retry_after(exc)
        if wait is not None:  # Slack refused it: nothing happened, so waiting is all it takes
            metrics.SLACK_RATE_LIMITED.labels(method=_method(exc)).inc()
            return Deferred("Slack rate limit (429)", retry_after=wait)
        if status >= 500:
            return RetryLater(f"Slack HTTP {status}")
        # Any other refusal (not_in_channel, missing_scope, ...) says the same on every try: dead at once.
        return GiveUp(refusal(exc))
    if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
        return RetryLater(f"Slack unreachable: {type(exc).__name__}")
    return exc


async def call(awaitable):
    """Await a Slack Web API call, mapping its failures to retry-later or give-up."""
    try:
        return await awaitable
    except Exception as exc:  # mapped for the worker
        raise _failure(exc) from exc


async def paced_post(rt: Runtime, job: Job, *, channel: str, first: bool = False, **message: Any) -> dict:
    """chat.postMessage in the channel's next free slot: waited for if it is near, else the job is deferred to it."""
    pacer, clock = rt.pacer, time.monotonic
    pacer.book(channel, job.id, clock(), first=first)
    # Waiting in the worker's slot is worth it up to about a poll interval; beyond, the queue is cheaper.
    max_wait = min(MAX_IN_SLOT_WAIT_S, max(rt.settings.worker_poll_s, pacer.interval))
    wait, tries = pacer.admit(channel, job.id, clock()), 0
    while 0 < wait <= max_wait and tries < MAX_IN_SLOT_TRIES:
        await asyncio.sleep(wait)
        wait, tries = pacer.admit(channel, job.id, clock()), tries + 1
    if wait > 0:
        raise Deferred(f"waiting for a free slot in Slack channel {channel}", retry_after=wait)
    try:
        reply = await rt.slack.chat_postMessage(channel=channel, **message)
    except SlackApiError as exc:
        slack_wait = retry_after(exc)
        if slack_wait is not None:
            metrics.SLACK_RATE_LIMITED.labels(method="chat.postMessage").inc()
        if slack_wait is None:
            pacer.done(channel, job.id)
            raise _failure(exc) from exc
        # Slack's bucket disagrees with ours (another process, another app, a smaller burst): learn from it.
        pacer.pause(channel, clock(), slack_wait)
        raise Deferred("Slack rate limit (429)", retry_after=pacer.book(channel, job.id, clock()) - clock()) from exc
    except Exception as exc:
        pacer.done(channel, job.id)
        raise _failure(exc) from exc
    pacer.done(channel, job.id)
    return reply


def deferrable(executor: Executor) -> Executor:
    """Let an executor wait for Slack without spending an attempt: on Deferred the job goes back to the queue.

    Only for executors that post at most one message a run, as their last Slack call: a deferred run has
    then posted nothing, so giving the attempt back cannot make a retry skip looking for an earlier post.
    """

    async def run(rt: Runtime, job: Job) -> Apply | None:
        try:
            return await executor(rt, job)
        except Deferred as exc:
            until = rt.now() + timedelta(seconds=max(0.0, exc.retry_after or 0.0))
            reason = f"waiting: {exc}"

            async def apply(session: AsyncSession) -> None:
                await jobs.defer(session, job=job, run_at=until, now=rt.now(), reason=reason)

            return apply

    return run


def _matches(message: dict[str, Any], event_type: str, key: str, value: Any) -> bool:
    meta = message.get("metadata") or {}
    return meta.get("event_type") == event_type and (meta.get("event_payload") or {}).get(key) == value


async def find_message(rt: Runtime, job: Job, channel: str, event_type: str, key: str, value: Any,
                       thread_ts: str | None = None) -> str | None:
    """After a failed attempt the message may have landed anyway: look for it before posting again."""
    oldest = f"{job.created_at.timestamp() - 60:.6f}"
    cursor = None
    for _ in range(FIND_PAGES):  # in a flooded channel the first page may not reach back far enough
        if thread_ts:
            reply = await call(rt.slack.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True,
                                                              limit=200, cursor=cursor))
        else:
            reply = await call(rt.slack.conversations_history(channel=channel, oldest=oldest, limit=200, cursor=cursor,
                                                              include_all_metadata=True))
        found = next((m["ts"] for m in reply.get("messages") or [] if _matches(m, event_type, key, value)), None)
        cursor = (reply.get("response_metadata") or {}).get("next_cursor")
        if found or not cursor:
            return found
    return None


async def post_once(rt: Runtime, job: Job, *, channel: str, thread_ts: str | None = None, first: bool = False,
                    **message: Any) -> str:
    """chat.postMessage tagged with this job's id, so a retry finds the first attempt instead of posting again."""
    if job.attempts > 1:
        found = await find_message(rt, job, channel, JOB_EVENT, "job_id", job.id, thread_ts)
        if found:
            return found
    reply = await paced_post(rt, job, channel=channel, first=first, thread_ts=thread_ts, unfurl_links=False,
                             metadata={"event_type": JOB_EVENT, "event_payload": {"job_id": job.id}}, **message)
    return reply["ts"]
