"""`/order-request`: the modal, its product search, the submission, and the requester's Cancel/Retry buttons."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals import internal
from bot.blocks import order_request as blocks
from bot.blocks.ids import ActionId, CallbackId, OrderRef, OrderRequestMeta
from bot.features.internal_orders import service as internal_orders
from bot.runtime import Runtime
from handlers import runtime
from handlers.actions import channel_of

log = logging.getLogger(__name__)
COMMAND = "/order-request"


async def shops(rt: Runtime) -> list[str]:
    """The shops an internal order may be placed in: those installed now."""
    return await internal_orders.shops(rt)


async def order_request(ack: AsyncAck, body: dict, respond: AsyncRespond, client: AsyncWebClient,
                        context: Any) -> None:
    """`/order-request` opens the modal; `/order-request status` lists the caller's requests."""
    rt = runtime(context)
    user, text = body.get("user_id"), (body.get("text") or "").strip().lower()
    await ack()
    if text == "status":
        message, status_blocks = blocks.status_list(await internal_orders.mine(rt, user=user))
        await respond(text=message, blocks=status_blocks or None, response_type="ephemeral")
        return
    policy = internal_orders.policy_for(rt)
    served = await shops(rt)
    if policy is None or not served:
        view = blocks.notice("Internal orders are not set up: the policy file has no policy with `internal:`.")
    else:
        view = blocks.modal(OrderRequestMeta(policy_id=policy.id, channel=body.get("channel_id")), policy,
                            shops=served)
    # The trigger_id dies 3 s after the command: open the modal now; nothing else here waits on Shopify.
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def product_options(ack: AsyncAck, body: dict, context: Any) -> None:
    """The product picker's options: a Shopify variant search, answered within Slack's 3 s."""
    rt = runtime(context)
    state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    shop = blocks.read(state).shop or next(iter(await shops(rt)), None)
    nodes = await internal_orders.search(rt, shop=shop, typed=body.get("value") or "") if shop else []
    await ack(options=blocks.options(nodes))


async def submit(ack: AsyncAck, body: dict, view: dict, context: Any) -> None:
    """Validate the modal (inline errors), then submit the request; the DM follows it from here."""
    rt = runtime(context)
    meta = OrderRequestMeta.parse(view.get("private_metadata"))
    policy = rt.policies.get(meta.policy_id) if meta else None
    if policy is None or policy.internal is None:
        await ack(response_action="update", view=blocks.notice("The internal-order policy has changed; run "
                                                               "`/order-request` again."))
        return
    raw = blocks.read((view.get("state") or {}).get("values") or {})
    sub, found = internal.validate(raw, policy, shops=await shops(rt), today=rt.now().date())
    if sub is not None:
        known = await internal_orders.known_variants(rt, shop=sub.shop, gids=[g for g, _ in sub.lines])
        found = internal.unknown(raw.items, known) if known is not None else {}
    if found or sub is None:
        await ack(response_action="errors", errors=blocks.errors(found))
        return
    await internal_orders.submit(rt, user=body["user"]["id"], policy=policy, sub=sub)
    await ack()  # closes the modal; the DM follows the request from here


async def on_button(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: Any,
                    work: Callable[..., Awaitable[str]]) -> None:
    """Cancel or Retry from the requester's DM; the outcome comes back as an ephemeral line."""
    await ack()
    ref = OrderRef.parse(action.get("value"))
    if ref is None:
        return
    user = body["user"]["id"]
    text = await work(runtime(context), request_id=ref.request_id, user=user)
    channel = channel_of(body)
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)


async def cancel(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: Any) -> None:
    """The requester withdraws their request."""
    await on_button(ack, body, action, client, context, internal_orders.cancel)


async def retry(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient, context: Any) -> None:
    """The requester retries after Shopify failed."""
    await on_button(ack, body, action, client, context, internal_orders.retry)


def register(app: AsyncApp) -> None:
    """Listen for the command, the options requests, the modal and the DM buttons."""
    app.command(COMMAND)(order_request)
    app.options(ActionId.ORDER_PRODUCT.value)(product_options)
    app.view(CallbackId.ORDER_REQUEST.value)(submit)
    app.action(ActionId.ORDER_CANCEL.value)(cancel)
    app.action(ActionId.ORDER_RETRY.value)(retry)
