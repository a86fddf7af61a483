"""Shopify job executors: hold, release, tags, decision note, cancel — each idempotent."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import holds
from bot.approvals.effects import JobKind, shopify_key
from bot.blocks import consequences
from bot.features.requests.common import load_request, redraw, redraw_once, refused, say_in_thread
from bot.jobs.errors import GiveUp, RetryLater
from bot.jobs.registry import Apply
from bot.runtime import Runtime
from bot.shopify import documents as gql
from bot.shopify.client import Result, ShopifyClient
from storage import audit, jobs, requests
from storage.models import ApprovalRequest, Job

log = logging.getLogger(__name__)

OPEN_STATUSES = ("OPEN", "ON_HOLD")


async def _fulfillment_orders(rt: Runtime, shop: str, order_gid: str) -> list[dict[str, Any]]:
    client = await rt.shopify.get(shop)
    result = await client.execute(gql.ORDER_FULFILLMENT_ORDERS, {"id": order_gid}, name="OrderFulfillmentOrders")
    order = result.root("order")
    if not order:
        raise GiveUp(f"order {order_gid} not found in {shop}")
    return (order.get("fulfillmentOrders") or {}).get("nodes") or []


def _ours(fo: dict[str, Any], handle: str) -> list[str]:
    # A handle is unique per app, not per shop (FulfillmentHold.handle: "unique among the holds that a single app
    # applies to a single fulfillment order"): another app (a staging install of holdfast, say) may hold the same
    # fulfillment order under the same handle. Only `heldByRequestingApp` says the hold is ours.
    # https://shopify.dev/docs/api/admin-graphql/latest/objects/FulfillmentHold
    return [h["id"] for h in fo.get("fulfillmentHolds") or []
            if h.get("handle") == handle and h.get("heldByRequestingApp")]


async def hold(rt: Runtime, job: Job) -> Apply | None:
    """Put OUR hold on every open fulfillment order (idempotent through our handle); wait for the ones not open yet."""
    req = await load_request(rt, job)
    if req.status == "approved":
        return None  # decided before the hold landed: holding now would block an approved order
    handle, shop = job.payload["handle"], req.shop_domain
    fos = await _fulfillment_orders(rt, shop, req.order_gid)
    open_fos = [fo for fo in fos if fo["status"] in OPEN_STATUSES]
    waiting = holds.waiting_for(fos, job_created=job.created_at, now=rt.now(), wait_s=rt.settings.hold_wait_s)
    if not open_fos and waiting is None:
        raise RetryLater(f"order {req.order_name} has no open fulfillment orders")
    if isinstance(waiting, holds.GaveUp):
        raise GiveUp(waiting.why)
    client = await rt.shopify.get(shop)
    tagged = job.payload.get("tags") or []
    if tagged:  # the pending tag goes on with the hold (additive: a retry adds nothing twice)
        await _change_tags(client, req.order_gid, add=tagged, remove=[])
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

    if waiting is not None:
        return _wait(rt, job, req, hold_ids=hold_ids, held=[fo["id"] for fo in open_fos], waiting=waiting)

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        posted = await requests.set_hold(session, request_id=req.id, state="placed", hold_ids=hold_ids, now=now)
        await audit.append(session, at=now, actor="shopify", kind="hold.placed", shop_domain=shop, request_id=req.id,
                           data={"fulfillment_orders": [fo["id"] for fo in open_fos], "hold_ids": hold_ids,
                                 **({"tags_added": tagged} if tagged else {})})
        log.info("%s %s: held %d fulfillment order(s)", shop, req.order_name, len(open_fos))
        # Not posted yet: the post draws the hold, and redraws if the hold lands while it posts (the UPDATE
        # above locks the row, so of this and the post's commit, the later one sees the earlier).
        if posted:
            await redraw_once(rt, session, req)

    return apply


def _wait(rt: Runtime, job: Job, req: ApprovalRequest, *, hold_ids: list[str], held: list[str],
          waiting: holds.Waiting) -> Apply:
    """Some fulfillment orders are not open yet: say so on the message, and look again later (or when Shopify's
    fulfillment_orders/order_routing_complete or scheduled_fulfillment_order_ready webhook wakes this job)."""

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        before = req.hold_state
        posted = await requests.set_hold(session, request_id=req.id, state="waiting", hold_ids=hold_ids, now=now,
                                         error=waiting.why)
        if before != "waiting":
            await audit.append(session, at=now, actor="shopify", kind="hold.waiting", shop_domain=req.shop_domain,
                               request_id=req.id, data={"why": waiting.why, "held": held, "hold_ids": hold_ids,
                                                        "look_again_at": waiting.at.isoformat()})
        # The wait is no failure: the attempt is given back, so a wait of hours never runs the job out of tries.
        await jobs.defer(session, job=job, run_at=waiting.at, now=now, reason=f"waiting: {waiting.why}")
        if posted and before != "waiting":
            await redraw_once(rt, session, req)

    return apply


async def hold_failed(rt: Runtime, session: AsyncSession, job: Job, error: str) -> None:
    """A hold that could not be placed is shown on the message and said in its thread."""
    req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        return
    now = rt.now()
    await requests.set_hold(session, request_id=req.id, state="failed", error=error, now=now)
    redraw(rt, session, req)
    say_in_thread(rt, session, req, f":warning: holdfast could NOT put order {req.order_name} on hold: {error}. "
                                     "It may ship before a decision; hold it by hand in Shopify.")


async def release(rt: Runtime, job: Job) -> Apply | None:
    """Release only our own holds, by id (other apps' holds stay)."""
    req = await load_request(rt, job)
    handle, shop = job.payload["handle"], req.shop_domain
    fos = await _fulfillment_orders(rt, shop, req.order_gid)
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
        log.info("%s %s: hold released (%d hold(s))", shop, req.order_name, len(released))
        if job.payload.get("report"):
            await requests.set_outcome(session, request_id=req.id, state="done", now=now)
        await redraw_once(rt, session, req)  # before the thread notice: the message is what people wait for
        if job.payload.get("report"):
            say_in_thread(rt, session, req, f"Shopify: hold released; order {req.order_name} can be fulfilled.")

    return apply


async def _change_tags(client: ShopifyClient, order_gid: str, *, add: list[str], remove: list[str]) -> None:
    """Remove then add order tags, in one request when there are both (both additive: no read-modify-write)."""
    if add and remove:
        result = await client.execute(gql.TAGS_CHANGE, {"id": order_gid, "add": add, "remove": remove},
                                      name="TagsChange")
        roots = ("tagsRemove", "tagsAdd")
    elif add or remove:
        document, name, root = ((gql.TAGS_ADD, "TagsAdd", "tagsAdd") if add else
                                (gql.TAGS_REMOVE, "TagsRemove", "tagsRemove"))
        result = await client.execute(document, {"id": order_gid, "tags": add or remove}, name=name)
        roots = (root,)
    else:
        return
    for root in roots:
        refuse_on_user_errors(result, root)


def refuse_on_user_errors(result: Result, root: str) -> None:
    """Shopify refused the mutation (its userErrors): retrying the same input cannot help."""
    errors = result.user_errors(root)
    if errors:
        raise GiveUp(f"{root}: {errors[0].get('message')}")


async def tags(rt: Runtime, job: Job) -> Apply | None:
    """Add and remove order tags and, for a decision, add its line to the order note."""
    p = job.payload
    req = await load_request(rt, job)
    client = await rt.shopify.get(req.shop_domain)
    await _change_tags(client, p["order_gid"], add=p.get("add") or [], remove=p.get("remove") or [])
    if p.get("note"):
        await _append_note(rt, client, req, p["order_gid"], **p["note"])

    async def apply(session: AsyncSession) -> None:
        await audit.append(session, at=rt.now(), actor="shopify", kind="order.tagged", shop_domain=req.shop_domain,
                           request_id=req.id, data={"add": p.get("add", []), "remove": p.get("remove", []),
                                                    **({"noted": p["note"]["status"]} if p.get("note") else {})})
        # Keeping the hold lands nothing else: the tag is what Shopify did (a decision's job has a note, not a re-tag).
        if p.get("note") and consequences.keeps_hold(rt.policies.get(req.policy_id), p["note"]["status"]):
            now_req = await requests.get(session, request_id=req.id)
            held = now_req is not None and now_req.hold_state in ("placed", "waiting")
            say_in_thread(rt, session, req, consequences.hold_kept(req.order_name, tag=", ".join(p.get("add") or []), held=held))

    return apply


def note_line(request_id: int, status: str, by: str, fields: dict[str, Any]) -> str:
    """The line a decision adds to the order note; its marker makes the write idempotent."""
    detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
    who = "holdfast" if by == "holdfast" else f"Slack user {by}"
    return f"[holdfast #{request_id}] {status} by {who}" + (f" ({detail})" if detail else "")


async def _append_note(rt: Runtime, client: ShopifyClient, req: ApprovalRequest, order_gid: str, *, status: str, by: str,
                       fields: dict[str, Any] | None = None) -> None:
    """Append the decision to the order note, keeping whatever is there (orderUpdate overwrites `note`)."""
    current = (await client.execute(gql.ORDER_NOTE, {"id": order_gid}, name="OrderNote")).root("order")
    existing = (current or {}).get("note") or ""
    marker = f"[holdfast #{req.id}]"
    if marker in existing:
        return  # an earlier attempt wrote it
    line = note_line(req.id, status, by, fields or {})
    merged = f"{existing.rstrip()}\n{line}" if existing.strip() else line
    update: dict[str, Any] = {"id": order_gid, "note": merged}
    policy = rt.policies.get(req.policy_id)
    if policy and policy.metafield:
        # One metafield per key, set on its own: other metafields on the order are left alone.
        value = {"request_id": req.id, "policy": req.policy_id, "status": status, "by": by, "fields": fields or {}}
        update["metafields"] = [{"namespace": policy.metafield.namespace, "key": policy.metafield.key,
                                 "type": "json", "value": json.dumps(value, sort_keys=True)}]
    refuse_on_user_errors(await client.execute(gql.ORDER_UPDATE_NOTE, {"input": update}, name="OrderUpdateNote"),
                          "orderUpdate")


async def cancel(rt: Runtime, job: Job) -> Apply | None:
    """Start Shopify's (asynchronous) order cancellation and follow its job."""
    p = job.payload
    req = await load_request(rt, job)
    client = await rt.shopify.get(req.shop_domain)
    order = (await client.execute(gql.ORDER_CANCELLED_AT, {"id": p["order_gid"]}, name="OrderCancelledAt")).root("order")
    job_id = None
    if not (order or {}).get("cancelledAt"):
        # `refundMethod` replaced the deprecated `refund: Boolean` (2025-07; OrderCancelRefundMethodInput is @oneOf):
        # https://shopify.dev/changelog/ordercancel-mutation-now-supports-refunds-to-store-credit
        result = await client.execute(gql.ORDER_CANCEL, {
            "orderId": p["order_gid"], "reason": p["reason"], "restock": p["restock"],
            "refundMethod": {"originalPaymentMethodsRefund": bool(p["refund"])},
            "notifyCustomer": p["notify_customer"], "staffNote": p["staff_note"]}, name="OrderCancel")
        errors = result.root("orderCancel").get("orderCancelUserErrors") or []
        underway = [e for e in errors if "already" in (e.get("message") or "").lower()]
        if errors and not underway:
            raise GiveUp(f"Shopify would not cancel order {req.order_name}: {errors[0].get('message')}")
        # "already being cancelled": an earlier attempt started it; follow the order instead of its job.
        job_id = None if underway else (result.root("orderCancel").get("job") or {}).get("id")

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await audit.append(session, at=now, actor="shopify", kind="order.cancel_started", shop_domain=req.shop_domain,
                           request_id=req.id, data={"shopify_job": job_id})
        rt.enqueue(session, JobKind.CANCEL_CHECK, key=shopify_key(req.shop_domain, req.order_gid),
                   run_at=now + timedelta(seconds=1),
                   payload={"request_id": req.id, "order_gid": p["order_gid"], "shopify_job": job_id,
                            "restock": p["restock"], "refund": p["refund"]})  # for the thread's account

    return apply


async def cancel_check(rt: Runtime, job: Job) -> Apply | None:
    """Follow Shopify's cancel job until the order shows as cancelled."""
    p = job.payload
    req = await load_request(rt, job)
    client = await rt.shopify.get(req.shop_domain)
    if p.get("shopify_job"):
        data = (await client.execute(gql.ORDER_CANCEL_STATUS, {"jobId": p["shopify_job"], "orderId": p["order_gid"]},
                                     name="OrderCancelStatus")).data
    else:
        data = (await client.execute(gql.ORDER_CANCELLED_AT, {"id": p["order_gid"]}, name="OrderCancelledAt")).data
    if p.get("shopify_job") and not (data.get("job") or {}).get("done"):
        raise RetryLater("Shopify's cancel job is still running", retry_after=1.0)
    if not (data.get("order") or {}).get("cancelledAt"):
        if not p.get("shopify_job"):
            raise RetryLater(f"order {req.order_name} is not cancelled yet", retry_after=1.0)
        raise GiveUp(f"Shopify finished cancelling but order {req.order_name} is not cancelled")

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await requests.set_outcome(session, request_id=req.id, state="done", now=now)
        await audit.append(session, at=now, actor="shopify", kind="order.cancelled", shop_domain=req.shop_domain,
                           request_id=req.id, data={})
        say_in_thread(rt, session, req, consequences.cancelled(
            req.order_name, restock=p.get("restock"), refund=p.get("refund"),
            financial_status=(data.get("order") or {}).get("displayFinancialStatus")))
        redraw(rt, session, req)

    return apply


async def outcome_failed(rt: Runtime, session: AsyncSession, job: Job, error: str) -> None:
    """A decision whose effect Shopify refused is said plainly on the message and in its thread."""
    await refused(rt, session, job, error, ":warning: Shopify did not apply the decision on {order}: {error}")
