"""Job executors: each does its external I/O, then returns the database writes that record it."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import orders
from bot.approvals.machine import HOLD_HANDLE, JobKind
from bot.approvals.policies import match
from bot.blocks import request_message
from bot.jobs.errors import GiveUp, RetryLater
from bot.jobs.worker import Apply
from bot.runtime import Runtime
from bot.shopify import documents as gql
from bot.workflow import flag_order, view_of
from storage import audit, jobs, requests
from storage.models import ApprovalRequest, Job

OPEN_STATUSES = ("OPEN", "ON_HOLD")
REQUEST_EVENT = "holdfast_request"


async def _request(rt: Runtime, job: Job) -> ApprovalRequest:
    async with rt.sessions() as session:
        req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        raise GiveUp(f"request {job.payload['request_id']} does not exist")
    return req


async def process_order(rt: Runtime, job: Job) -> Apply | None:
    """Match a webhook's order against the policies; flag it in the apply step."""
    p = job.payload
    try:
        facts = orders.from_webhook(p["order"])
    except orders.OrderPayloadError as exc:
        raise GiveUp(f"unreadable order payload: {exc}") from None
    hit = match(rt.policies, facts)
    if hit is None:
        return None

    async def apply(session: AsyncSession) -> None:
        await flag_order(rt, session, shop=p["shop"], order=facts, match=hit, source=p.get("topic", "webhook"))

    return apply


async def _fulfillment_orders(rt: Runtime, shop: str, order_gid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    client = await rt.shopify.get(shop)
    result = await client.execute(gql.ORDER_FULFILLMENT_ORDERS, {"id": order_gid}, name="OrderFulfillmentOrders")
    order = result.root("order")
    if not order:
        raise GiveUp(f"order {order_gid} not found in {shop}")
    return order, (order.get("fulfillmentOrders") or {}).get("nodes") or []


def _ours(fo: dict[str, Any], handle: str) -> list[str]:
    return [h["id"] for h in fo.get("fulfillmentHolds") or [] if h.get("handle") == handle]


async def hold(rt: Runtime, job: Job) -> Apply | None:
    """Put OUR hold on every open fulfillment order (idempotent through our handle)."""
    req = await _request(rt, job)
    if req.status == "approved":
        return None  # decided before the hold landed: holding now would block an approved order
    handle, shop = job.payload["handle"], req.shop_domain
    order, fos = await _fulfillment_orders(rt, shop, req.order_gid)
    open_fos = [fo for fo in fos if fo["status"] in OPEN_STATUSES]
    if not open_fos:
        raise RetryLater(f"order {req.order_name} has no open fulfillment orders yet")
    client = await rt.shopify.get(shop)
    hold_ids: list[str] = []
    for fo in open_fos:
        existing = _ours(fo, handle)
        if existing:
            hold_ids += existing
            continue
        hold_input = {"reason": "OTHER", "reasonNotes": job.payload["notes"], "handle": handle}
        result = await client.execute(gql.FULFILLMENT_ORDER_HOLD, {"id": fo["id"], "hold": hold_input},
                                      name="FulfillmentOrderHold")
        errors = result.user_errors("fulfillmentOrderHold")
        if errors:
            # A duplicate handle means an earlier attempt landed: read again rather than guess.
            raise RetryLater(f"fulfillmentOrderHold on {fo['id']}: {errors[0].get('message')}")
        hold_ids.append(result.root("fulfillmentOrderHold")["fulfillmentHold"]["id"])

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await requests.set_hold(session, request_id=req.id, state="placed", hold_ids=hold_ids, now=now)
        await audit.append(session, at=now, actor="shopify", kind="hold.placed", shop_domain=shop, request_id=req.id,
                           data={"fulfillment_orders": [fo["id"] for fo in open_fos], "hold_ids": hold_ids})
        jobs.enqueue(session, kind=JobKind.UPDATE_REQUEST, key=f"slack:{shop}:{req.order_gid}", now=now,
                     payload={"request_id": req.id})

    return apply


async def hold_failed(rt: Runtime, session: AsyncSession, job: Job, error: str) -> None:
    """A hold that could not be placed is shown on the message and said in its thread."""
    req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        return
    now = rt.now()
    await requests.set_hold(session, request_id=req.id, state="failed", error=error, now=now)
    key = f"slack:{req.shop_domain}:{req.order_gid}"
    jobs.enqueue(session, kind=JobKind.UPDATE_REQUEST, key=key, now=now, payload={"request_id": req.id})
    jobs.enqueue(session, kind=JobKind.THREAD_NOTICE, key=key, now=now, payload={
        "request_id": req.id,
        "text": f":warning: holdfast could NOT put order {req.order_name} on hold: {error}. "
                "It may ship before a decision; hold it by hand in Shopify.",
    })


async def release(rt: Runtime, job: Job) -> Apply | None:
    """Release only our own holds, by id (other apps' holds stay)."""
    req = await _request(rt, job)
    handle, shop = job.payload["handle"], req.shop_domain
    _, fos = await _fulfillment_orders(rt, shop, req.order_gid)
    client = await rt.shopify.get(shop)
    released: list[str] = []
    for fo in fos:
        ids = _ours(fo, handle)
        if not ids:
            continue
        result = await client.execute(gql.FULFILLMENT_ORDER_RELEASE_HOLD, {"id": fo["id"], "holdIds": ids},
                                      name="FulfillmentOrderReleaseHold")
        errors = result.user_errors("fulfillmentOrderReleaseHold")
        if errors:
            raise RetryLater(f"fulfillmentOrderReleaseHold on {fo['id']}: {errors[0].get('message')}")
        released += ids

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await requests.set_hold(session, request_id=req.id, state="released", now=now)
        await audit.append(session, at=now, actor="shopify", kind="hold.released", shop_domain=shop,
                           request_id=req.id, data={"hold_ids": released})
        jobs.enqueue(session, kind=JobKind.UPDATE_REQUEST, key=f"slack:{shop}:{req.order_gid}", now=now,
                     payload={"request_id": req.id})

    return apply


async def tags(rt: Runtime, job: Job) -> Apply | None:
    """Add and remove order tags (both additive operations: no read-modify-write)."""
    p = job.payload
    req = await _request(rt, job)
    client = await rt.shopify.get(req.shop_domain)
    for field, document, name in (("remove", gql.TAGS_REMOVE, "TagsRemove"), ("add", gql.TAGS_ADD, "TagsAdd")):
        if p.get(field):
            result = await client.execute(document, {"id": p["order_gid"], "tags": p[field]}, name=name)
            errors = result.user_errors(name[0].lower() + name[1:])
            if errors:
                raise GiveUp(f"{name}: {errors[0].get('message')}")

    async def apply(session: AsyncSession) -> None:
        await audit.append(session, at=rt.now(), actor="shopify", kind="order.tagged", shop_domain=req.shop_domain,
                           request_id=req.id, data={"add": p.get("add", []), "remove": p.get("remove", [])})

    return apply


def _slack_failure(exc: Exception) -> Exception:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        if status == 429 or exc.response.get("error") == "ratelimited":
            retry = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
            return RetryLater("Slack rate limit (429)", retry_after=float(retry or 1))
        if status >= 500:
            return RetryLater(f"Slack HTTP {status}")
        return GiveUp(f"Slack said {exc.response.get('error')}")
    if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
        return RetryLater(f"Slack unreachable: {type(exc).__name__}")
    return exc


async def _slack(call):
    try:
        return await call
    except Exception as exc:  # mapped to retry / give up for the worker
        raise _slack_failure(exc) from exc


async def _find_posted(rt: Runtime, req: ApprovalRequest, job: Job) -> str | None:
    """After a failed attempt the message may have been posted anyway: look for it before posting again."""
    oldest = f"{job.created_at.timestamp() - 60:.6f}"
    reply = await _slack(rt.slack.conversations_history(channel=req.channel, oldest=oldest, limit=200,
                                                        include_all_metadata=True))
    for message in reply.get("messages") or []:
        meta = message.get("metadata") or {}
        if meta.get("event_type") == REQUEST_EVENT and (meta.get("event_payload") or {}).get("request_id") == req.id:
            return message["ts"]
    return None


async def post_request(rt: Runtime, job: Job) -> Apply | None:
    """Post the approval message once."""
    req = await _request(rt, job)
    if req.message_ts:
        return None
    ts = await _find_posted(rt, req, job) if job.attempts > 1 else None
    view = view_of(rt, req)
    if ts is None:
        reply = await _slack(rt.slack.chat_postMessage(
            channel=req.channel, text=request_message.text_fallback(view), blocks=request_message.build(view),
            metadata={"event_type": REQUEST_EVENT, "event_payload": {"request_id": req.id, "shop": req.shop_domain}},
            unfurl_links=False,
        ))
        ts = reply["ts"]

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await requests.set_message(session, request_id=req.id, channel=req.channel, ts=ts, now=now)
        await audit.append(session, at=now, actor="slack", kind="message.posted", shop_domain=req.shop_domain,
                           request_id=req.id, data={"channel": req.channel, "ts": ts})
        current = await requests.get(session, request_id=req.id)
        if current is not None and view_of(rt, current) != view:  # it moved on while we were posting
            jobs.enqueue(session, kind=JobKind.UPDATE_REQUEST, key=f"slack:{req.shop_domain}:{req.order_gid}",
                         now=now, payload={"request_id": req.id})

    return apply


async def update_request(rt: Runtime, job: Job) -> Apply | None:
    """Redraw the message from the current state (running twice draws the same thing)."""
    req = await _request(rt, job)
    if not req.message_ts:
        raise RetryLater("the request message is not posted yet")
    view = view_of(rt, req)
    await _slack(rt.slack.chat_update(channel=req.channel, ts=req.message_ts, text=request_message.text_fallback(view),
                                      blocks=request_message.build(view)))
    return None


async def ephemeral(rt: Runtime, job: Job) -> Apply | None:
    """An only-you-can-see-this reply to a clicker."""
    p = job.payload
    await _slack(rt.slack.chat_postEphemeral(channel=p["channel"], user=p["user"], text=p["text"]))
    return None


async def thread_notice(rt: Runtime, job: Job) -> Apply | None:
    """A reply in the request's thread."""
    req = await _request(rt, job)
    if not req.message_ts:
        raise RetryLater("the request message is not posted yet")
    await _slack(rt.slack.chat_postMessage(channel=req.channel, thread_ts=req.message_ts, text=job.payload["text"]))
    return None


EXECUTORS = {
    JobKind.PROCESS_ORDER: process_order,
    JobKind.HOLD: hold,
    JobKind.RELEASE: release,
    JobKind.TAGS: tags,
    JobKind.POST_REQUEST: post_request,
    JobKind.UPDATE_REQUEST: update_request,
    JobKind.EPHEMERAL: ephemeral,
    JobKind.THREAD_NOTICE: thread_notice,
}
ON_DEAD = {JobKind.HOLD: hold_failed}
