"""The approval state machine: given the stored state and an event, the new state and its effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.approvals.effects import Effect, JobKind, dm_key, requester_dm_key, shipstation_key, shopify_key, slack_key
from bot.approvals.orders import OrderFacts
from bot.approvals.policies import Match
from bot.approvals.schema import Policy
from bot.blocks.mrkdwn import escape

HOLD_HANDLE = "holdfast-approval"  # ours alone on each fulfillment order; lets other apps' holds coexist


class Status(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CLOSED = "closed"  # ended outside holdfast (order cancelled or fulfilled)
    DRAFTING = "drafting"  # an internal order whose Shopify draft is not made yet: nothing to decide
    CANCELLED = "cancelled"  # an internal order withdrawn by its requester


class Vote(StrEnum):
    """What an approver clicked."""

    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class Ballot:
    """One vote as cast: who, what, whether the directory counts them as an approver, and the modal's fields."""

    user: str
    vote: Vote
    eligible: bool
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestState:
    """What the machine needs of a stored request."""

    id: int
    shop: str
    order_gid: str
    status: Status
    version: int
    policy_id: str
    order_name: str = ""
    requester: str | None = None
    creator: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    votes: tuple[tuple[str, Vote], ...] = ()


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
class AlreadyVoted:
    """This approver voted before; one vote each."""

    vote: Vote


@dataclass(frozen=True)
class Recorded:
    """The vote counts but does not decide yet (N of M)."""

    progress: str
    effects: tuple[Effect, ...]


@dataclass(frozen=True)
class Decided:
    """The vote decides the request."""

    status: Status
    progress: str
    effects: tuple[Effect, ...]




def flag(shop: str, order: OrderFacts, match: Match) -> NewRequest:
    """A flagged order becomes a pending request: tag, hold every fulfillment order, post to Slack."""
    policy = match.policy
    notes = policy.hold_notes or f"Held by holdfast for approval: policy {policy.title}"
    sk, lk = shopify_key(shop, order.gid), slack_key(shop, order.gid)
    effects = (
        # The hold job tags the order first: one job, not two, for what always goes together.
        Effect(JobKind.HOLD, sk, {"order_gid": order.gid, "handle": HOLD_HANDLE, "notes": notes[:255],
                                  "tags": [policy.tags.pending]}),
        Effect(JobKind.POST_REQUEST, lk, {}),
    )
    if policy.shipstation is not None:  # the order's ShipStation shipment too (found once ShipStation imports it)
        effects += (Effect(JobKind.SHIPSTATION_FLAG, shipstation_key(shop, order.gid),
                           {"order_gid": order.gid, "order_name": order.name, "order_legacy_id": order.legacy_id}),)
    audit = {"policy": policy.id, "reasons": list(match.reasons), "missing": list(match.missing)}
    return NewRequest(order, match, audit, effects)


def authorise(req: RequestState, policy: Policy | None, ballot: Ballot) -> Refused | None:
    """Server-side check of who may decide, from the stored request and the policy in force."""
    if policy is None:
        return Refused(f"The policy `{req.policy_id}` that flagged this order no longer exists; ask an operator.")
    if req.requester and ballot.user == req.requester:
        return Refused("You requested this order, so you cannot approve or reject it.")
    if req.creator and ballot.user == req.creator:
        return Refused("You created this order in Shopify, so you cannot approve or reject it.")
    if not ballot.eligible:
        return Refused(f"You are not an approver for the policy *{policy.title}*.")
    return None


def progress(policy: Policy, votes: tuple[tuple[str, Vote], ...]) -> str:
    """'1 of 2: approved by <@U1>' — what the message shows while votes come in."""
    approvals = [u for u, v in votes if v is Vote.APPROVE]
    rejections = [u for u, v in votes if v is Vote.REJECT]
    who = []
    if approvals:
        who.append("approved by " + ", ".join(f"<@{u}>" for u in approvals))
    if rejections:
        who.append("rejected by " + ", ".join(f"<@{u}>" for u in rejections))
    head = f"{len(approvals)} of {policy.approvers.required}"
    return f"{head}: {'; '.join(who)}" if who else head


def fields_text(policy: Policy, fields: dict[str, Any]) -> str:
    """Submitted fields as bullet lines under their labels, as mrkdwn: what an approver typed is escaped, so a note
    like "Ship <today>" reads as typed in the message and in its thread."""
    labels = {f.id: f.label for f in (*policy.fields.approve, *policy.fields.reject)}
    return "\n".join(f"• {escape(str(labels.get(k, k)))}: {escape(str(v))}" for k, v in fields.items()
                     if v not in (None, ""))


def outcome(req: RequestState, policy: Policy, status: Status, *, by: str,
            fields: dict[str, Any] | None = None) -> tuple[Effect, ...]:
    """Effects of a final decision (also used by expiry): Shopify first, then what people see."""
    if policy.internal is not None:
        return internal_outcome(req, policy, status, by=by, fields=fields)
    sk, lk = shopify_key(req.shop, req.order_gid), slack_key(req.shop, req.order_gid)
    gid = req.order_gid
    tag = {Status.APPROVED: policy.tags.approved, Status.REJECTED: policy.tags.rejected,
           Status.EXPIRED: policy.tags.expired}[status]
    effects: list[Effect] = []
    if status is Status.APPROVED or (status is Status.REJECTED and policy.on_reject == "release"):
        effects.append(Effect(JobKind.RELEASE, sk, {"order_gid": gid, "handle": HOLD_HANDLE, "report": True}))
    elif status is Status.REJECTED and policy.on_reject == "cancel":
        c = policy.cancel
        effects.append(Effect(JobKind.CANCEL, sk, {
            "order_gid": gid, "reason": c.reason, "restock": c.restock, "refund": c.refund,
            "notify_customer": c.notify_customer, "staff_note": f"Rejected in Slack by {by} (holdfast)"}))
    # The decision's tags and its line in the order note: one job.
    effects.append(Effect(JobKind.TAGS, sk, {"order_gid": gid, "add": [tag], "remove": [policy.tags.pending],
                                             "note": {"status": status.value, "by": by, "fields": fields or {}}}))
    if policy.shipstation is not None:
        effects.append(Effect(JobKind.SHIPSTATION_DECIDE, shipstation_key(req.shop, gid), {"status": status.value}))
    effects.append(Effect(JobKind.UPDATE_REQUEST, lk, {}))
    if req.requester:
        effects.append(Effect(JobKind.DM, dm_key(req.requester), {
            "user": req.requester, "text": f"Your order request {req.order_name} was {status.value} by <@{by}>"
            if by != "holdfast" else f"Your order request {req.order_name} {status.value}."}))
    return tuple(effects)


def internal_outcome(req: RequestState, policy: Policy, status: Status, *, by: str,
                     fields: dict[str, Any] | None = None) -> tuple[Effect, ...]:
    """An internal order's decision: complete the draft, or tag/delete it; no holds (drafts have none)."""
    sk, lk = shopify_key(req.shop, req.order_gid), slack_key(req.shop, req.order_gid)
    assert policy.internal is not None
    if status is Status.APPROVED:
        first = Effect(JobKind.DRAFT_COMPLETE, sk, {"draft_gid": req.order_gid, "payment": policy.internal.payment,
                                                    "tag": policy.tags.approved})
    else:
        tag = policy.tags.expired if status is Status.EXPIRED else policy.tags.rejected
        first = Effect(JobKind.DRAFT_REJECT, sk, {"draft_gid": req.order_gid, "tag": tag,
                                                  "delete": policy.internal.on_reject == "delete"})
    why = (fields or {}).get("reason")
    return (first, Effect(JobKind.UPDATE_REQUEST, lk, {}),
            Effect(JobKind.REQUESTER_DM, requester_dm_key(req.id), {
                "text": f"Your order request {req.order_name} was {status.value}"
                + (f" by <@{by}>" if by != "holdfast" else "") + (f": {why}" if why else ".")}))


def decide(req: RequestState, policy: Policy | None, ballot: Ballot) -> (
        Refused | AlreadyDecided | AlreadyVoted | Recorded | Decided):
    """Apply one vote: refuse it, report an earlier decision or vote, record it, or decide."""
    if req.status is not Status.PENDING:
        return AlreadyDecided(req.status, req.decided_by, req.decided_at)
    refused = authorise(req, policy, ballot)
    if refused:
        return refused
    assert policy is not None
    earlier = dict(req.votes)
    if ballot.user in earlier:
        return AlreadyVoted(earlier[ballot.user])
    votes = (*req.votes, (ballot.user, ballot.vote))
    tally = sum(1 for _, v in votes if v is ballot.vote)
    needed = policy.approvers.required if ballot.vote is Vote.APPROVE else policy.approvers.rejections_required
    shown = progress(policy, votes)
    verb = "approved" if ballot.vote is Vote.APPROVE else "rejected"
    notice = Effect(JobKind.THREAD_NOTICE, slack_key(req.shop, req.order_gid),
                    {"text": f"<@{ballot.user}> {verb}" + (f" ({shown})" if policy.approvers.required > 1 else "")
                     + (f"\n{fields_text(policy, ballot.fields)}" if ballot.fields else "")})
    # The message is redrawn before the thread hears of it: Slack jobs of one request run in order, and what
    # the approver waits for is the message.
    if tally < needed:
        return Recorded(shown, (Effect(JobKind.UPDATE_REQUEST, slack_key(req.shop, req.order_gid), {}), notice))
    status = Status.APPROVED if ballot.vote is Vote.APPROVE else Status.REJECTED
    return Decided(status, shown, (*outcome(req, policy, status, by=ballot.user, fields=ballot.fields), notice))

