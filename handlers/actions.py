"""Block actions on request messages: Approve and Reject."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.approvals.machine import Vote
from bot.blocks.ids import ActionId, RequestRef
from bot.runtime import Runtime
from bot.workflow import vote


def register(app: AsyncApp, rt: Runtime) -> None:
    """Listen for the decision buttons."""

    async def on_vote(ack: AsyncAck, body: dict, action: dict, choice: Vote) -> None:
        await ack()
        ref = RequestRef.parse(action.get("value"))
        if ref is None:
            return  # not one of our buttons (or tampered with): nothing to decide
        await vote(rt, request_id=ref.request_id, user=body["user"]["id"], vote=choice)

    @app.action(ActionId.APPROVE.value)
    async def approve(ack: AsyncAck, body: dict, action: dict) -> None:
        await on_vote(ack, body, action, Vote.APPROVE)

    @app.action(ActionId.REJECT.value)
    async def reject(ack: AsyncAck, body: dict, action: dict) -> None:
        await on_vote(ack, body, action, Vote.REJECT)
