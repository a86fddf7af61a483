"""The privacy webhooks' job: one per delivery, in the shop's privacy lane (effects.privacy_key), in arrival order.

Its payload holds the webhook's body, which names the customer; once the work is done the job keeps only what
says which request it was (`_scrubbed`), so the jobs table does not become a second copy of what was erased.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.privacy import service
from bot.features.privacy.payloads import Subject
from bot.jobs.errors import GiveUp
from bot.jobs.registry import Apply
from bot.jobs.slack_calls import call
from bot.runtime import Runtime
from storage import audit
from storage import privacy as store
from storage.db import transaction
from storage.models import Job

log = logging.getLogger(__name__)
DOCS = "https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance"


def _scrubbed(p: dict[str, Any]) -> dict[str, Any]:
    body = p.get("body") or {}
    request = body.get("data_request") if isinstance(body.get("data_request"), dict) else {}
    return {"shop": p["shop"], "topic": p["topic"], "webhook_id": p.get("webhook_id"), "scrubbed": True,
            "data_request_id": request.get("id"), "sent": p.get("sent", [])}


KINDS = {"customers/redact": "privacy.customer_redacted", "shop/redact": "privacy.shop_redacted"}


async def privacy_request(rt: Runtime, job: Job) -> Apply | None:
    """Do what the delivery asks: send a data request's file, or redact a customer or a shop."""
    p = job.payload
    if p.get("scrubbed"):
        return None  # done already (a dead job retried by hand after it had finished its work)
    topic, shop, body = p["topic"], p["shop"], p.get("body") or {}
    if topic == "customers/data_request":
        await _send_data(rt, job, shop=shop, who=Subject.of(topic, body))
    elif topic not in KINDS:
        raise GiveUp(f"not a privacy topic: {topic}")

    async def apply(session: AsyncSession) -> None:
        # A redaction, its audit row and the scrubbed payload commit together, with the job.
        if topic in KINDS:
            done = await (service.redact_customer(rt, session, shop=shop, who=Subject.of(topic, body))
                          if topic == "customers/redact" else service.redact_shop(session, shop=shop))
            await audit.append(session, at=rt.now(), actor="shopify", kind=KINDS[topic], shop_domain=shop,
                               data={"webhook_id": p.get("webhook_id"), **done})
        await store.set_payload(session, job_id=job.id, payload=_scrubbed(p))

    return apply


async def _send_data(rt: Runtime, job: Job, *, shop: str, who: Subject) -> None:
    """The customer's data as a JSON file in each manager's DM, each send audited (and remembered on the job, so
    a retry after a failed send does not send the others a second copy)."""
    managers = await rt.directory.expand(rt.policies.roles.managers)
    if not managers:
        raise GiveUp("a customers/data_request needs someone to send the data to: set roles.managers in the policy "
                     f"file, then `holdfast jobs retry {job.id}` (Shopify gives 30 days: {DOCS})")
    async with rt.sessions() as session:
        found = await service.find(session, shop=shop, who=who)
        events = await audit.of_requests(session, request_ids=found.request_ids)
    document = service.export(shop=shop, who=who, found=found, events=events, now=rt.now())
    content = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    name = f"holdfast-data-request-{who.data_request_id or job.id}.json"
    comment = (f"Shopify data request {who.data_request_id or ''} from {shop}: what holdfast stores about the "
               f"customer ({len(found.requests)} request(s), {len(found.order_jobs)} stored order webhook(s)). "
               f"Send it to the customer; Shopify gives 30 days from the request ({DOCS}).")
    sent = list(job.payload.get("sent", []))
    for user in managers:
        if user in sent:
            continue
        dm = await call(rt.slack.conversations_open(users=user))
        # files.getUploadURLExternal + the upload + files.completeUploadExternal, as the audit CSV goes.
        await call(rt.slack.files_upload_v2(channel=dm["channel"]["id"], filename=name, title=name, content=content,
                                            initial_comment=comment))
        sent.append(user)
        async with transaction(rt.sessions) as session:
            await audit.append(session, at=rt.now(), actor="holdfast", kind="privacy.data_request", shop_domain=shop,
                               data={"webhook_id": job.payload.get("webhook_id"), "data_request": who.data_request_id,
                                     "sent_to": user, "file": name, "requests": found.request_ids,
                                     "order_webhooks": len(found.order_jobs)})
            await store.set_payload(session, job_id=job.id, payload={**job.payload, "sent": sent})
    job.payload["sent"] = sent  # the apply's scrubbed payload keeps who got it
