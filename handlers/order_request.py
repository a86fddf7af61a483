"""`/order-request`: the modal, its product search, the submission, and the requester's Cancel/Retry buttons."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import internal_orders
from bot.approvals import internal
from bot.blocks import order_request as blocks
from bot.blocks.ids import ActionId, CallbackId, OrderRef, OrderRequestMeta
from bot.runtime import Runtime

log = logging.getLogger(__name__)
COMMAND = "/order-request"


def register(app: AsyncApp, rt: Runtime) -> None:
    """Listen for the command, the options requests, the modal and the DM buttons."""

    def shops() -> list[str]:
        return sorted(rt.settings.shops())

    @app.command(COMMAND)
    async def order_request(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        user, text = body.get("user_id"), (body.get("text") or "").strip().lower()
        if text == "status":
            await ack()
            message, status_blocks = blocks.status_list(await internal_orders.mine(rt, user=user))
            await respond(text=message, blocks=status_blocks or None, response_type="ephemeral")
            return
        await ack()
        policy = internal_orders.policy_for(rt)
        if policy is None or not shops():
            view = blocks.notice("Internal orders are not set up: the policy file has no policy with `internal:`.")
        else:
            view = blocks.modal(OrderRequestMeta(policy_id=policy.id, channel=body.get("channel_id")), policy,
                                shops=shops())
        # The trigger_id dies 3 s after the command: open the modal now; nothing else here waits on Shopify.
        await rt.slack.views_open(trigger_id=body["trigger_id"], view=view)

    @app.options(ActionId.ORDER_PRODUCT.value)
    async def product_options(ack: AsyncAck, body: dict) -> None:
        state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
        shop = blocks.read(state).shop or (shops()[0] if shops() else None)
        nodes = await internal_orders.search(rt, shop=shop, typed=body.get("value") or "") if shop else []
        await ack(options=blocks.options(nodes))

    @app.view(CallbackId.ORDER_REQUEST.value)
    async def submit(ack: AsyncAck, body: dict, view: dict) -> None:
        meta = OrderRequestMeta.parse(view.get("private_metadata"))
        policy = rt.policies.get(meta.policy_id) if meta else None
        if policy is None or policy.internal is None:
            await ack(response_action="update", view=blocks.notice("The internal-order policy has changed; run "
                                                                   "`/order-request` again."))
            return
        raw = blocks.read((view.get("state") or {}).get("values") or {})
        sub, found = internal.validate(raw, policy, shops=shops(), today=rt.now().date())
        if sub is not None:
            known = await internal_orders.known_variants(rt, shop=sub.shop, gids=[g for g, _ in sub.lines])
            found = internal.unknown(raw.items, known) if known is not None else {}
        if found or sub is None:
            await ack(response_action="errors", errors=blocks.errors(found))
            return
        await internal_orders.submit(rt, user=body["user"]["id"], policy=policy, sub=sub)
        await ack()  # closes the modal; the DM follows the request from here

    async def on_button(ack: AsyncAck, body: dict, action: dict, work) -> None:
        await ack()
        ref = OrderRef.parse(action.get("value"))
        if ref is None:
            return
        user = body["user"]["id"]
        text = await work(rt, request_id=ref.request_id, user=user)
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        if channel:
            await rt.slack.chat_postEphemeral(channel=channel, user=user, text=text)

    @app.action(ActionId.ORDER_CANCEL.value)
    async def cancel(ack: AsyncAck, body: dict, action: dict) -> None:
        await on_button(ack, body, action, internal_orders.cancel)

    @app.action(ActionId.ORDER_RETRY.value)
    async def retry(ack: AsyncAck, body: dict, action: dict) -> None:
        await on_button(ack, body, action, internal_orders.retry)
