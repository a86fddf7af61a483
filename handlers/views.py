"""Modal submissions: the decision form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.approvals import fields
from bot.approvals.machine import Vote
from bot.blocks import modal
from bot.blocks.ids import CallbackId, DecisionMeta
from bot.features.requests import decisions
from handlers import runtime
from storage import requests


async def submit_decision(ack: AsyncAck, body: dict, view: dict, context: Any) -> None:
    """Validate the fields inline (`response_action: errors`), then vote; the modal closes once it is recorded."""
    meta = DecisionMeta.parse(view.get("private_metadata"))
    if meta is None:
        await ack()
        return
    rt = runtime(context)
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=meta.request_id)
    policy = rt.policies.get(req.policy_id) if req else None
    if req is None or policy is None:
        await ack(response_action="update", view=modal.notice(meta, "This request or its policy no longer exists."))
        return
    specs = policy.fields.approve if meta.vote == "approve" else policy.fields.reject
    values, errors = fields.validate(specs, (view.get("state") or {}).get("values") or {}, today=rt.now().date())
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    result = await decisions.vote(rt, request_id=req.id, user=body["user"]["id"], vote=Vote(meta.vote),
                                  fields=values, surface="modal")
    if result.outcome in ("decided", "recorded"):
        await ack()  # closes the modal; the message and its thread show the vote
    else:
        await ack(response_action="update", view=modal.notice(meta, result.message or "Nothing was changed."))


def register(app: AsyncApp) -> None:
    """Listen for decision modal submissions."""
    app.view(CallbackId.DECISION.value)(submit_decision)
