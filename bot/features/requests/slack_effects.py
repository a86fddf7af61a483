"""Slack job executors: post, redraw, thread replies, DMs and ephemerals — none posts twice."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import escalation, request_message
from bot.features.flood import service as flood
from bot.features.requests.common import (
    load_copies,
    load_decisions,
    load_request,
    redraw,
    say_in_thread,
    shipstation_line,
    shows_shop,
    view_of,
)
from bot.jobs.errors import RetryLater
from bot.jobs.registry import Apply, Executor
from bot.jobs.slack_calls import call, find_message, paced_post, post_once
from bot.runtime import Runtime
from storage import audit, requests
from storage.models import ApprovalRequest, Job

REQUEST_EVENT = "holdfast_request"


async def _view(rt: Runtime, job: Job, req: ApprovalRequest) -> request_message.RequestView:
    return view_of(rt, req, await load_decisions(rt, job, req), show_shop=await shows_shop(rt),
                   shipstation=await shipstation_line(rt, req))


def fingerprint(text: str, blocks: list[dict[str, Any]]) -> str:
    """What a message shows, in 32 hex digits: a redraw to the same fingerprint changes nothing."""
    return hashlib.sha256(json.dumps([text, blocks], sort_keys=True).encode()).hexdigest()[:32]


async def post_request(rt: Runtime, job: Job) -> Apply | None:
    """Post the approval message once."""
    req = await load_request(rt, job)
    if req.message_ts:
        return None
    ts = await find_message(rt, job, req.channel, REQUEST_EVENT, "request_id", req.id) if job.attempts > 1 else None
    view = await _view(rt, job, req)
    text, blocks = request_message.text_fallback(view), request_message.build(view)
    drawn = None  # found from an earlier attempt: it shows what that attempt drew, whatever it was
    if ts is None:
        reply = await paced_post(
            rt, job, channel=req.channel, text=text, blocks=blocks,
            metadata={"event_type": REQUEST_EVENT, "event_payload": {"request_id": req.id, "shop": req.shop_domain}},
            unfurl_links=False,
        )
        ts, drawn = reply["ts"], fingerprint(text, blocks)
    policy = rt.policies.get(req.policy_id)
    unresolved = await rt.directory.problems(policy.approvers) if policy is not None else []

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await requests.set_message(session, request_id=req.id, channel=req.channel, ts=ts, now=now, drawn=drawn)
        await audit.append(session, at=now, actor="slack", kind="message.posted", shop_domain=req.shop_domain,
                           request_id=req.id, data={"channel": req.channel, "ts": ts})
        if unresolved:  # only this policy's requests are affected; say so where its approvers look
            await audit.append(session, at=now, actor="holdfast", kind="request.approvers_unresolved",
                               shop_domain=req.shop_domain, request_id=req.id, data={"unresolved": unresolved})
            posted = await requests.get(session, request_id=req.id)
            if posted is not None:
                say_in_thread(rt, session, posted, f":warning: approvers could not be resolved: "
                              f"{', '.join(unresolved)}. Fix policy `{req.policy_id}` in the policy file; until "
                              "then only the approvers it names by user id can decide.")
        current = await requests.get(session, request_id=req.id)
        if current is not None and (drawn is None or view_of(
                rt, current, await requests.decisions(session, request_id=req.id), show_shop=view.show_shop,
                shipstation=await shipstation_line(rt, current, session)) != view):
            redraw(rt, session, current)  # it moved on while we were posting
        await flood.touch(session, rt, channel=req.channel, now=now)  # one fewer to come

    return apply


async def update_request(rt: Runtime, job: Job) -> Apply | None:
    """Redraw the message from the current state, unless it shows that already (a hold placed before it was posted)."""
    req = await load_request(rt, job)
    if not req.message_ts:
        raise RetryLater("the request message is not posted yet")
    view = await _view(rt, job, req)
    text, blocks = request_message.text_fallback(view), request_message.build(view)
    drawn = fingerprint(text, blocks)
    if drawn == req.drawn:
        return None  # chat.update is limited per workspace: a flood of no-op redraws would delay real ones
    await call(rt.slack.chat_update(channel=req.channel, ts=req.message_ts, text=text, blocks=blocks))

    async def apply(session: AsyncSession) -> None:
        await requests.set_drawn(session, request_id=req.id, drawn=drawn)
        await flood.touch(session, rt, channel=req.channel, now=rt.now())  # a vote or a decision: the counts moved

    return apply


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
        blocks = request_message.build(await _view(rt, job, await load_request(rt, job)))
    await post_once(rt, job, channel=channel, text=p["text"], blocks=blocks)
    return None


def with_copies(update_request: Executor) -> Executor:
    """Wrap the message redraw so escalated copies are redrawn with it (buttons go after a decision)."""

    async def run(rt: Runtime, job: Job) -> Apply | None:
        applied = await update_request(rt, job)
        req = await load_request(rt, job)
        shown = await load_copies(rt, job, req)
        view = view_of(rt, req, await load_decisions(rt, job, req), show_shop=await shows_shop(rt)) if shown else None
        for copy in shown:
            await call(rt.slack.chat_update(channel=copy.channel, ts=copy.ts, text=request_message.text_fallback(view),
                                            blocks=escalation.build(view, None)))
        return applied

    return run
