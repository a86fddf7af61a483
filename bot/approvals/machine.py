"""The approval state machine: given the stored state and an event, the new state and its effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match, Policy

HOLD_HANDLE = "holdfast-approval"  # ours alone on each fulfillment order; lets other apps' holds coexist


class Status(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Vote(StrEnum):
    """What an approver clicked."""

    APPROVE = "approve"
    REJECT = "reject"


class JobKind(StrEnum):
    """Durable side effects, each run by a job executor."""

    PROCESS_ORDER = "order.process"
    HOLD = "shopify.hold"
    RELEASE = "shopify.release"
    TAGS = "shopify.tags"
    POST_REQUEST = "slack.post_request"
    UPDATE_REQUEST = "slack.update_request"
    EPHEMERAL = "slack.ephemeral"
    THREAD_NOTICE = "slack.thread_notice"


@dataclass(frozen=True)
class Effect:
    """A job to enqueue; jobs with the same key run one after another, in order."""

    kind: JobKind
    key: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestState:
    """What the machine needs of a stored request."""

    id: int
    shop: str
    order_gid: str
    status: Status
    version: int
    policy_id: str
    requester: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class NewRequest:
    """A request to create for a flagged order, with its audit data and effects."""

    order: OrderFacts
    match: Match
    audit: dict[str, Any]
    effects: tuple[Effect, ...]


@dataclass(frozen=True)
class Refused:
    """The clicker may not decide this request."""

    reason: str


@dataclass(frozen=True)
class AlreadyDecided:
    """Someone decided first; the clicker is told who and when."""

    status: Status
    by: str | None
    at: datetime | None


@dataclass(frozen=True)
class Decided:
    """The vote decides the request."""

    status: Status
    effects: tuple[Effect, ...]


def shopify_key(shop: str, order_gid: str) -> str:
    """Ordering key for an order's Shopify effects (hold before release)."""
    return f"shopify:{shop}:{order_gid}"


def slack_key(shop: str, order_gid: str) -> str:
    """Ordering key for a request's Slack effects (post before update)."""
    return f"slack:{shop}:{order_gid}"


def flag(shop: str, order: OrderFacts, match: Match) -> NewRequest:
    """A flagged order becomes a pending request: tag, hold every fulfillment order, post to Slack."""
    policy = match.policy
    notes = policy.hold_notes or f"Held by holdfast for approval: policy {policy.title}"
    sk, lk = shopify_key(shop, order.gid), slack_key(shop, order.gid)
    effects = (
        Effect(JobKind.TAGS, sk, {"order_gid": order.gid, "add": [policy.tags.pending], "remove": []}),
        Effect(JobKind.HOLD, sk, {"order_gid": order.gid, "handle": HOLD_HANDLE, "notes": notes[:255]}),
        Effect(JobKind.POST_REQUEST, lk, {}),
    )
    audit = {"policy": policy.id, "reasons": list(match.reasons), "missing": list(match.missing)}
    return NewRequest(order, match, audit, effects)


def authorise(req: RequestState, policy: Policy | None, user: str) -> Refused | None:
    """Server-side check of who may decide, from the stored request and the policy in force."""
    if policy is None:
        return Refused(f"The policy `{req.policy_id}` that flagged this order no longer exists; ask an operator.")
    if req.requester and user == req.requester:
        return Refused("You requested this order, so you cannot approve or reject it.")
    if user not in policy.approvers.users:
        return Refused(f"You are not an approver for the policy *{policy.title}*.")
    return None


def decide(req: RequestState, policy: Policy | None, user: str, vote: Vote) -> Refused | AlreadyDecided | Decided:
    """Apply one vote: refuse it, report the earlier decision, or decide with its effects."""
    if req.status is not Status.PENDING:
        return AlreadyDecided(req.status, req.decided_by, req.decided_at)
    refused = authorise(req, policy, user)
    if refused:
        return refused
    assert policy is not None
    sk, lk = shopify_key(req.shop, req.order_gid), slack_key(req.shop, req.order_gid)
    update = Effect(JobKind.UPDATE_REQUEST, lk, {})
    if vote is Vote.APPROVE:
        tags = {"order_gid": req.order_gid, "add": [policy.tags.approved], "remove": [policy.tags.pending]}
        effects = (
            Effect(JobKind.RELEASE, sk, {"order_gid": req.order_gid, "handle": HOLD_HANDLE}),
            Effect(JobKind.TAGS, sk, tags),
            update,
        )
        return Decided(Status.APPROVED, effects)
    tags = {"order_gid": req.order_gid, "add": [policy.tags.rejected], "remove": [policy.tags.pending]}
    return Decided(Status.REJECTED, (Effect(JobKind.TAGS, sk, tags), update))
