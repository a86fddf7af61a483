"""Decisions: authorise a click, record the vote with compare-and-set, and enqueue the outcome, atomically."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import machine
from bot.approvals.effects import JobKind, dm_key, ephemeral_key, shopify_key, slack_key
from bot.approvals.machine import (
    AlreadyDecided,
    AlreadyVoted,
    Ballot,
    Decided,
    Recorded,
    Refused,
    RequestState,
    Status,
    Vote,
)
from bot.approvals.schema import Policy
from bot.features.home import service as home
from bot.features.requests.common import enqueue_effects
from bot.runtime import Runtime
from storage import audit, jobs, requests
from storage.db import transaction
from storage.models import ApprovalRequest

log = logging.getLogger(__name__)

Surface = Literal["ephemeral", "modal"]
MAX_TRIES = 5  # compare-and-set retries when votes race (PostgreSQL; SQLite serialises writers)


def state_of(req: ApprovalRequest, votes: list[tuple[str, str]]) -> RequestState:
    """The machine's view of a stored request and its votes."""
    return RequestState(id=req.id, shop=req.shop_domain, order_gid=req.order_gid, status=Status(req.status),
                        version=req.version, policy_id=req.policy_id, order_name=req.order_name,
                        requester=req.requester, creator=req.creator, decided_by=req.decided_by,
                        decided_at=req.decided_at, votes=tuple((u, Vote(v)) for u, v in votes))


async def is_approver(rt: Runtime, policy: Policy | None, user: str) -> bool:
    """Listed, or a member of a listed user group (membership cached with a bounded lifetime)."""
    return policy is not None and await rt.directory.includes(policy.approvers, user)


@dataclass(frozen=True)
class VoteResult:
    """What happened to a click, for the handler's reply."""

    outcome: Literal["decided", "recorded", "refused", "already", "voted", "missing"]
    message: str | None = None


def _already_text(result: AlreadyDecided) -> str:
    who = f" by <@{result.by}>" if result.by else ""
    when = f" at {result.at:%Y-%m-%d %H:%M} UTC" if result.at else ""
    return f"This request was already {result.status}{who}{when}."


def _reply(session: AsyncSession, rt: Runtime, req: ApprovalRequest, user: str, text: str,
           surface: Surface, channel: str | None) -> None:
    # A refusal shown in a modal needs no message; from a button it is an ephemeral reply, sent as a job.
    if surface == "ephemeral":
        rt.enqueue(session, JobKind.EPHEMERAL, key=ephemeral_key(user),
                   payload={"request_id": req.id, "channel": channel or req.channel, "user": user, "text": text})


async def check(rt: Runtime, *, request_id: int, user: str, vote: Vote) -> tuple[ApprovalRequest | None, str | None]:
    """Before showing a form: the request and, if the user may not vote now, why (audited)."""
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=request_id)
        votes = await requests.votes(session, request_id=request_id) if req else []
    if req is None:
        return None, "This request no longer exists."
    policy = rt.policies.get(req.policy_id)
    ballot = Ballot(user, vote, await is_approver(rt, policy, user))
    result = machine.decide(state_of(req, votes), policy, ballot)
    if isinstance(result, (Decided, Recorded)):
        return req, None
    text = _text(result)
    if isinstance(result, Refused):
        async with transaction(rt.sessions) as session:
            await audit.append(session, at=rt.now(), actor=user, kind="vote.refused", shop_domain=req.shop_domain,
                               request_id=req.id, data={"vote": vote, "reason": result.reason})
    return req, text


def _text(result: Refused | AlreadyDecided | AlreadyVoted) -> str:
    if isinstance(result, Refused):
        return result.reason
    if isinstance(result, AlreadyVoted):
        return f"You already voted ({result.vote}) on this request; each approver votes once."
    return _already_text(result)


async def vote(rt: Runtime, *, request_id: int, user: str, vote: Vote, fields: dict[str, Any] | None = None,
               surface: Surface = "ephemeral", channel: str | None = None) -> VoteResult:
    """Apply a vote: authorise, compare-and-set, and enqueue the outcome's effects in one transaction."""
    # Group membership may need Slack: resolve it before the transaction, never while holding a write lock.
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=request_id)
    eligible = req is not None and await is_approver(rt, rt.policies.get(req.policy_id), user)
    for _ in range(MAX_TRIES):
        try:
            result = await _vote_once(rt, request_id=request_id, user=user, vote=vote, fields=fields or {},
                                      surface=surface, channel=channel, eligible=eligible)
        except IntegrityError:
            continue  # this approver's other click won the unique (request, user) race: look again
        if result is not None:
            rt.wake_worker()
            return result
    raise RuntimeError(f"request {request_id}: gave up after {MAX_TRIES} concurrent-update retries")


async def _vote_once(rt: Runtime, *, request_id: int, user: str, vote: Vote, fields: dict[str, Any],
                     surface: Surface, channel: str | None, eligible: bool) -> VoteResult | None:
    now = rt.now()
    async with transaction(rt.sessions) as session:
        req = await requests.get(session, request_id=request_id)
        if req is None:
            return VoteResult("missing", "This request no longer exists.")
        policy = rt.policies.get(req.policy_id)
        votes = await requests.votes(session, request_id=req.id)
        ballot = Ballot(user, vote, eligible, fields)
        result = machine.decide(state_of(req, votes), policy, ballot)
        common = {"at": now, "actor": user, "shop_domain": req.shop_domain, "request_id": req.id}
        if isinstance(result, (Refused, AlreadyDecided, AlreadyVoted)):
            kind = {Refused: "vote.refused", AlreadyDecided: "vote.too_late", AlreadyVoted: "vote.repeated"}[type(result)]
            text = _text(result)
            await audit.append(session, kind=kind, data={"vote": vote, "reason": text}, **common)
            _reply(session, rt, req, user, text, surface, channel)
            outcome = {Refused: "refused", AlreadyDecided: "already", AlreadyVoted: "voted"}[type(result)]
            return VoteResult(outcome, text)
        decided = isinstance(result, Decided)
        values: dict[str, Any] = {}
        if decided:
            lands = any(e.kind in (JobKind.RELEASE, JobKind.CANCEL) for e in result.effects)
            values = {"status": result.status, "decided_by": user, "decided_at": now,
                      "outcome_state": "pending" if lands else None}
        if not await requests.compare_and_set(session, request_id=req.id, version=req.version, now=now, **values):
            return None  # someone voted between our read and our write: roll back and decide again
        await requests.add_decision(session, request_id=req.id, user_id=user, vote=vote, now=now, fields=fields)
        kind = f"request.{result.status}" if decided else "vote.recorded"
        # What the approver typed may name the customer: erasable (storage/audit.py).
        await audit.append(session, kind=kind, data={"vote": vote, "order": req.order_name,
                                                     "progress": result.progress}, personal={"fields": fields}, **common)
        enqueue_effects(rt, session, result.effects, request_id=req.id)
        if decided and req.hold_state == "waiting":  # its hold job waits for late fulfillment orders: let it see
            await jobs.wake(session, key=shopify_key(req.shop_domain, req.order_gid), kind=JobKind.HOLD, now=now)
        home.refresh_jobs(session, rt, request_id=req.id)  # every Home that shows this request
        log.info("%s %s %s by %s%s", req.shop_domain, req.order_name, result.status if decided else "vote", user,
                 f" ({result.progress})" if result.progress else "")
        return VoteResult("decided" if decided else "recorded", result.progress)


async def delegate(rt: Runtime, *, request_id: int, user: str, target: str) -> str:
    """Hand a pending request to another eligible approver (policy permitting); returns the reply text."""
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=request_id)
    policy = rt.policies.get(req.policy_id) if req else None
    if req is None or policy is None:
        return "This request no longer exists."
    problem = None
    if not policy.approvers.delegation:
        problem = f"The policy *{policy.title}* does not allow handing requests over."
    elif not await is_approver(rt, policy, user):
        problem = f"You are not an approver for the policy *{policy.title}*."
    elif target in (user, req.requester, req.creator) or not await is_approver(rt, policy, target):
        problem = f"<@{target}> cannot take this request: they must be another approver of *{policy.title}*."
    async with transaction(rt.sessions) as session:
        req = await requests.get(session, request_id=request_id)
        if req is None or req.status != Status.PENDING:
            return "This request is no longer waiting for a decision."
        common = {"at": rt.now(), "actor": user, "shop_domain": req.shop_domain, "request_id": req.id}
        if problem:
            await audit.append(session, kind="delegation.refused", data={"to": target, "reason": problem}, **common)
            return problem
        await requests.assign(session, request_id=req.id, assignee=target, now=rt.now())
        await audit.append(session, kind="request.delegated", data={"from": user, "to": target}, **common)
        lk = slack_key(req.shop_domain, req.order_gid)
        rt.enqueue(session, JobKind.UPDATE_REQUEST, key=lk, payload={"request_id": req.id})
        rt.enqueue(session, JobKind.THREAD_NOTICE, key=lk, payload={
            "request_id": req.id, "text": f"<@{user}> handed this request to <@{target}>."})
        rt.enqueue(session, JobKind.DM, key=dm_key(target), payload={
            "request_id": req.id, "user": target, "with_request": True,
            "text": f"<@{user}> handed you order {req.order_name} to approve or reject."})
    rt.wake_worker()
    return f"Handed to <@{target}>."
