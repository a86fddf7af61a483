"""Timer executors: reminders, escalation and expiry fire once, in the same transaction that finishes their job."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import machine, timers
from bot.approvals.effects import JobKind, copy_key
from bot.approvals.machine import Status
from bot.approvals.timers import Timer, TimerKind
from bot.blocks import escalation, request_message
from bot.features.home import service as home
from bot.features.requests.common import (
    enqueue_effects,
    enqueue_timer,
    load_request,
    redraw,
    say_in_thread,
    several_shops,
    view_of,
)
from bot.features.requests.decisions import state_of
from bot.jobs.registry import Apply
from bot.jobs.slack_calls import call, post_once
from bot.runtime import Runtime
from storage import audit, requests, tracking
from storage.models import ApprovalRequest, Job


def waited(age: timedelta) -> str:
    """'3 h' or '45 min'."""
    hours = age.total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 1 else f"{age.total_seconds() / 60:.0f} min"


async def fire(rt: Runtime, job: Job) -> Apply | None:
    """A timer came due: act only if the request is still pending (a decision cancels every timer)."""
    kind, n = TimerKind(job.payload["timer"]), int(job.payload.get("n", 1))
    req = await load_request(rt, job)
    policy = rt.policies.get(req.policy_id)
    if not timers.still_live(req.status) or policy is None:
        return None
    # Group members come from Slack: resolve them before the transaction that records the reminder.
    approvers = await rt.directory.expand(policy.approvers) if kind is TimerKind.REMIND else []

    async def apply(session: AsyncSession) -> None:
        current = await requests.get(session, request_id=req.id)
        if current is None or not timers.still_live(current.status):
            return  # decided while we were resolving the approvers
        common = {"at": rt.now(), "actor": "holdfast", "shop_domain": current.shop_domain, "request_id": current.id}
        if kind is TimerKind.REMIND:
            await _remind(rt, session, current, policy, approvers, n, common)
        elif kind is TimerKind.ESCALATE:
            await _escalate(rt, session, current, policy, common)
        else:
            await _expire(rt, session, current, policy, common)

    return apply


async def _remind(rt: Runtime, session: AsyncSession, req: ApprovalRequest, policy, approvers: list[str], n: int,
                  common: dict) -> None:
    now = common["at"]
    voted = {u for u, _ in await requests.votes(session, request_id=req.id)}
    assignee = getattr(req, "assignee", None)
    pool = [assignee] if assignee else [u for u in approvers if u not in (req.requester, getattr(req, "creator", None))]
    waiting = timers.not_voted(pool, voted)
    say_in_thread(rt, session, req, timers.reminder_text(req.order_name, waiting, n, policy.timers.max_reminders,
                                                          now - req.created_at))
    await audit.append(session, kind="request.reminded", data={"n": n, "mentioned": waiting}, **common)
    following = timers.next_timer(policy.timers, req.created_at, Timer(TimerKind.REMIND, now, n))
    if following is not None:
        enqueue_timer(rt, session, request_id=req.id, timer=following)


async def _escalate(rt: Runtime, session: AsyncSession, req: ApprovalRequest, policy, common: dict) -> None:
    now, to = common["at"], policy.timers.escalate_to
    note = escalation.intro(view_of(rt, req), waited(now - req.created_at))
    targets = ([{"channel": to.channel}] if to.channel else []) + [{"user": u} for u in to.users]
    for target in targets:
        rt.enqueue(session, JobKind.POST_COPY, key=copy_key(req.id, target.get("channel") or target["user"]),
                   payload={"request_id": req.id, "note": note, **target})
    where = [f"<#{to.channel}>"] if to.channel else []
    where += [f"<@{u}>" for u in to.users]
    say_in_thread(rt, session, req, f":rotating_light: No decision after {waited(now - req.created_at)}: "
                                     f"escalated to {', '.join(where)}.")
    await audit.append(session, kind="request.escalated", data={"channel": to.channel, "users": to.users}, **common)


async def _expire(rt: Runtime, session: AsyncSession, req: ApprovalRequest, policy, common: dict) -> None:
    now, on_expire = common["at"], policy.timers.on_expire
    status = timers.expiry_status(on_expire)
    state = state_of(req, await requests.votes(session, request_id=req.id))
    effects = machine.outcome(state, policy, status, by="holdfast")  # the decision path, with holdfast as actor
    lands = any(e.kind in (JobKind.RELEASE, JobKind.CANCEL) for e in effects)
    if not await requests.compare_and_set(session, request_id=req.id, version=req.version, now=now, status=status,
                                          decided_by="holdfast", decided_at=now,
                                          outcome_state="pending" if lands else None):
        return  # a vote won the race: the request is decided, so expiry is cancelled
    await audit.append(session, kind="request.expired", data={"on_expire": on_expire, "status": status,
                                                              "order": req.order_name}, **common)
    enqueue_effects(rt, session, effects, request_id=req.id)
    home.refresh_jobs(session, rt, request_id=req.id)  # it left everyone's queue
    told = {Status.EXPIRED: "kept on hold", Status.REJECTED: "rejected", Status.APPROVED: "approved"}[status]
    say_in_thread(rt, session, req, f":alarm_clock: No decision after {waited(now - req.created_at)}: "
                                     f"the request expired and the order was {told}, as the policy says.")


async def post_copy(rt: Runtime, job: Job) -> Apply | None:
    """Post the request, with its working buttons, to an escalation channel or user (once)."""
    p = job.payload
    req = await load_request(rt, job)
    channel = p.get("channel") or (await call(rt.slack.conversations_open(users=p["user"])))["channel"]["id"]
    async with rt.sessions() as session:
        if await tracking.copy_in(session, request_id=req.id, channel=channel):
            return None
        view = view_of(rt, req, await requests.decisions(session, request_id=req.id),
                       show_shop=await several_shops(session))
    ts = await post_once(rt, job, channel=channel, text=request_message.text_fallback(view),
                         blocks=escalation.build(view, p.get("note")))

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await tracking.add_copy(session, request_id=req.id, channel=channel, ts=ts, now=now)
        await audit.append(session, at=now, actor="slack", kind="message.escalated", shop_domain=req.shop_domain,
                           request_id=req.id, data={"channel": channel, "ts": ts})
        current = await requests.get(session, request_id=req.id)
        if current is not None and current.status != Status.PENDING:
            redraw(rt, session, current)  # decided while we posted: the redraw updates this copy too

    return apply
