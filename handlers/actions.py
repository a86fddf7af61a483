"""Block actions on request messages: Approve, Reject (directly or through a modal), and hand over."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.machine import Vote
from bot.blocks import consequences, modal
from bot.blocks.ids import ActionId, DecisionMeta, RequestRef
from bot.features.requests import decisions
from bot.jobs.slack_calls import retry_after
from bot.runtime import Runtime
from handlers import runtime

log = logging.getLogger(__name__)
BACKGROUND: set[asyncio.Task] = set()  # modals being filled after their listener returned


async def patiently(call: Callable[[], Awaitable[Any]], *, tries: int = 3, max_wait_s: float = 5.0) -> Any:
    """Run a Slack call, waiting out 429s and 5xx a few times (a modal left on "Loading" helps nobody)."""
    for attempt in range(1, tries + 1):
        try:
            return await call()
        except SlackApiError as exc:
            status = exc.response.status_code
            if attempt == tries or not (status == 429 or status >= 500):
                raise
            retry = retry_after(exc) or 1.0  # a 5xx carries no Retry-After
            if retry > max_wait_s:
                raise
            await asyncio.sleep(retry)


def channel_of(body: dict) -> str | None:
    """The channel a click came from (a message's, or a container's)."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


async def fill_form(rt: Runtime, client: AsyncWebClient, meta: DecisionMeta, user: str, view_id: str) -> None:
    """After the modal is open: load, authorise, then show the form or why not."""
    try:
        req, problem = await decisions.check(rt, request_id=meta.request_id, user=user, vote=Vote(meta.vote))
        policy = rt.policies.get(req.policy_id) if req else None
        if problem or req is None or policy is None:
            view = modal.notice(meta, problem or "This request no longer exists.")
        else:
            specs = policy.fields.approve if meta.vote == "approve" else policy.fields.reject
            summary = f"{req.order_snapshot.get('total_price')} {req.order_snapshot.get('currency')} · {policy.title}"
            said = consequences.of(policy, req.order_snapshot)
            view = modal.form(meta, order_name=req.order_name, summary=summary, specs=specs,
                              consequence=said.approve if meta.vote == "approve" else said.reject)
        await patiently(lambda: client.views_update(view_id=view_id, view=view))
    except Exception:  # the user sees the loading modal; operators get the log line
        log.exception("could not fill the decision modal for request %s", meta.request_id)


async def on_decision(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: Any,
                      choice: Vote) -> None:
    """Approve or Reject: vote at once, or open the modal first when the policy asks for fields."""
    await ack()
    ref = RequestRef.parse(action.get("value"))
    if ref is None:
        return  # not one of our buttons (or tampered with): nothing to decide
    rt, user = runtime(context), body["user"]["id"]
    if not ref.form:
        await decisions.vote(rt, request_id=ref.request_id, user=user, vote=choice, channel=channel_of(body))
        return
    meta = DecisionMeta(request_id=ref.request_id, version=ref.version, vote=choice.value)
    # The trigger_id dies 3 s after the click: open first, fill after. So views.open may wait out at most one
    # short 429.
    opened = await patiently(lambda: client.views_open(trigger_id=body["trigger_id"], view=modal.loading(meta)),
                             tries=2, max_wait_s=1.0)
    task = asyncio.create_task(fill_form(rt, client, meta, user, opened["view"]["id"]))
    BACKGROUND.add(task)
    task.add_done_callback(BACKGROUND.discard)


async def approve(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: Any) -> None:
    """The Approve button."""
    await on_decision(ack, body, action, client, context, Vote.APPROVE)


async def reject(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: Any) -> None:
    """The Reject button."""
    await on_decision(ack, body, action, client, context, Vote.REJECT)


async def hand_over(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: Any) -> None:
    """The hand-over user picker: the request is read from the message's own Approve button."""
    await ack()
    ref = RequestRef.parse(next((e.get("value") for b in (body.get("message") or {}).get("blocks", [])
                                 for e in b.get("elements", []) if e.get("action_id") == ActionId.APPROVE), None))
    target = action.get("selected_user")
    if ref is None or not target:
        return
    user = body["user"]["id"]
    text = await decisions.delegate(runtime(context), request_id=ref.request_id, user=user, target=target)
    channel = channel_of(body)
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)


def register(app: AsyncApp) -> None:
    """Listen for the decision buttons and the hand-over picker."""
    app.action(ActionId.APPROVE.value)(approve)
    app.action(ActionId.REJECT.value)(reject)
    app.action(ActionId.DELEGATE.value)(hand_over)
