"""Slack job executors: post, redraw, thread replies, DMs and ephemerals — none posts twice."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import request_message
from bot.jobs.common import load_request, redraw
from bot.jobs.errors import GiveUp, RetryLater
from bot.jobs.worker import Apply
from bot.runtime import Runtime
from bot.workflow import view_of
from storage import audit, requests
from storage.models import ApprovalRequest, Job

REQUEST_EVENT = "holdfast_request"
JOB_EVENT = "holdfast_job"


def _failure(exc: Exception) -> Exception:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        if status == 429 or exc.response.get("error") == "ratelimited":
            retry = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
            return RetryLater("Slack rate limit (429)", retry_after=float(retry or 1))
        if status >= 500:
            return RetryLater(f"Slack HTTP {status}")
        return GiveUp(f"Slack said {exc.response.get('error')}")
    if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
        return RetryLater(f"Slack unreachable: {type(exc).__name__}")
    return exc


async def call(awaitable):
    """Await a Slack Web API call, mapping its failures to retry-later or give-up."""
    try:
        return await awaitable
    except Exception as exc:  # mapped for the worker
        raise _failure(exc) from exc


async def _view(rt: Runtime, req: ApprovalRequest) -> request_message.RequestView:
    async with rt.sessions() as session:
        return view_of(rt, req, await requests.decisions(session, request_id=req.id))


def _matches(message: dict[str, Any], event_type: str, key: str, value: Any) -> bool:
    meta = message.get("metadata") or {}
    return meta.get("event_type") == event_type and (meta.get("event_payload") or {}).get(key) == value


async def _find(rt: Runtime, job: Job, channel: str, event_type: str, key: str, value: Any,
                thread_ts: str | None = None) -> str | None:
    """After a failed attempt the message may have landed anyway: look for it before posting again."""
    oldest = f"{job.created_at.timestamp() - 60:.6f}"
    if thread_ts:
        reply = await call(rt.slack.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True,
                                                          limit=200))
    else:
        reply = await call(rt.slack.conversations_history(channel=channel, oldest=oldest, limit=200,
                                                          include_all_metadata=True))
    return next((m["ts"] for m in reply.get("messages") or [] if _matches(m, event_type, key, value)), None)


async def post_once(rt: Runtime, job: Job, *, channel: str, thread_ts: str | None = None, **message: Any) -> str:
    """chat.postMessage tagged with this job's id, so a retry finds the first attempt instead of posting again."""
    if job.attempts > 1:
        found = await _find(rt, job, channel, JOB_EVENT, "job_id", job.id, thread_ts)
        if found:
            return found
    reply = await call(rt.slack.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False,
                                                 metadata={"event_type": JOB_EVENT, "event_payload": {"job_id": job.id}},
                                                 **message))
    return reply["ts"]


async def post_request(rt: Runtime, job: Job) -> Apply | None:
    """Post the approval message once."""
    req = await load_request(rt, job)
    if req.message_ts:
        return None
    ts = await _find(rt, job, req.channel, REQUEST_EVENT, "request_id", req.id) if job.attempts > 1 else None
    view = await _view(rt, req)
    if ts is None:
        reply = await call(rt.slack.chat_postMessage(
            channel=req.channel, text=request_message.text_fallback(view), blocks=request_message.build(view),
            metadata={"event_type": REQUEST_EVENT, "event_payload": {"request_id": req.id, "shop": req.shop_domain}},
            unfurl_links=False,
        ))
        ts = reply["ts"]

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await requests.set_message(session, request_id=req.id, channel=req.channel, ts=ts, now=now)
        await audit.append(session, at=now, actor="slack", kind="message.posted", shop_domain=req.shop_domain,
                           request_id=req.id, data={"channel": req.channel, "ts": ts})
        current = await requests.get(session, request_id=req.id)
        if current is not None and view_of(rt, current, await requests.decisions(session, request_id=req.id)) != view:
            redraw(session, current, now)  # it moved on while we were posting

    return apply


async def update_request(rt: Runtime, job: Job) -> Apply | None:
    """Redraw the message from the current state (running twice draws the same thing)."""
    req = await load_request(rt, job)
    if not req.message_ts:
        raise RetryLater("the request message is not posted yet")
    view = await _view(rt, req)
    await call(rt.slack.chat_update(channel=req.channel, ts=req.message_ts, text=request_message.text_fallback(view),
                                    blocks=request_message.build(view)))
    return None


async def ephemeral(rt: Runtime, job: Job) -> Apply | None:
    """An only-you-can-see-this reply to a clicker (not stored by Slack, so a rare repeat is harmless)."""
    p = job.payload
    await call(rt.slack.chat_postEphemeral(channel=p["channel"], user=p["user"], text=p["text"]))
    return None


async def thread_notice(rt: Runtime, job: Job) -> Apply | None:
    """A reply in the request's thread."""
    req = await load_request(rt, job)
    if not req.message_ts:
        raise RetryLater("the request message is not posted yet")
    await post_once(rt, job, channel=req.channel, thread_ts=req.message_ts, text=job.payload["text"])
    return None


async def direct_message(rt: Runtime, job: Job) -> Apply | None:
    """A DM (to a requester, or a delegate with the request's buttons)."""
    p = job.payload
    opened = await call(rt.slack.conversations_open(users=p["user"]))
    channel = opened["channel"]["id"]
    blocks = None
    if p.get("with_request") and p.get("request_id"):
        blocks = request_message.build(await _view(rt, await load_request(rt, job)))
    await post_once(rt, job, channel=channel, text=p["text"], blocks=blocks)
    return None
