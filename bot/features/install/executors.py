"""app/uninstalled: the shop's tokens are deleted and its undecided requests' approvers are told, in one transaction.

"Occurs whenever a shop has uninstalled the app" (https://shopify.dev/docs/api/webhooks/latest); Shopify revokes the
app's tokens at once, so nothing holdfast still had queued for the shop can reach it: those jobs end as cancelled
without a call (bot/shopify/tokens.py raises ShopUninstalled), not as a flood of 401s and dead jobs. Holds stay in
Shopify: the merchant releases them in the admin, or installs holdfast again and decides in Slack.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.requests.common import say_in_thread
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from bot.shopify.tokens import Tokens
from storage import audit, requests, shops
from storage.models import Job

log = logging.getLogger(__name__)
NOTICE = ("The app was uninstalled from {shop}; the holds stay in Shopify. Release them in the Shopify admin, or "
          "install holdfast again to decide here.")


async def app_uninstalled(rt: Runtime, job: Job) -> Apply | None:
    """Forget the shop's tokens; tell each undecided request's thread and the audit log."""
    shop = job.payload["shop"]

    async def apply(session: AsyncSession) -> None:
        grant = await shops.grant_type(session, domain=shop)
        if not job.payload.get("by_client_app", True) and grant not in (None, shops.LEGACY):
            # The old admin-created app was removed after the move to the Dev Dashboard app: not holdfast's tokens.
            await audit.append(session, at=rt.now(), actor="shopify", kind="shop.legacy_app_uninstalled",
                               shop_domain=shop, data={"webhook_id": job.payload.get("webhook_id")})
            log.info("%s: the legacy custom app was uninstalled; the Dev Dashboard app's tokens stay", shop)
            return
        if not await shops.forget_tokens(session, domain=shop, now=rt.now()):
            return  # uninstalled already (a redelivery, or a second uninstall without a reinstall)
        pending = await requests.undecided(session, shop=shop)
        await audit.append(session, at=rt.now(), actor="shopify", kind="shop.uninstalled", shop_domain=shop,
                           data={"webhook_id": job.payload.get("webhook_id"), "undecided": [r.id for r in pending]})
        for req in pending:
            await audit.append(session, at=rt.now(), actor="holdfast", kind="request.app_uninstalled",
                               shop_domain=shop, request_id=req.id, data={"order": req.order_name})
            if req.message_ts:
                say_in_thread(rt, session, req, NOTICE.format(shop=shop))
        if isinstance(rt.shopify.tokens, Tokens):
            rt.shopify.tokens.forget(shop)
        log.info("%s: the app was uninstalled: tokens deleted, %d undecided request(s) told", shop, len(pending))

    return apply
