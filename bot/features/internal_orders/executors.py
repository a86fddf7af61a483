"""Internal-order jobs: make the draft, complete it once approved (idempotently), tag or delete it, DM the requester."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.approvals import internal, timers
from bot.approvals.effects import JobKind, dm_key, slack_key
from bot.approvals.machine import Status
from bot.blocks import order_request as blocks
from bot.blocks.request_message import admin_url
from bot.features.internal_orders.service import PLACEHOLDER, dm_job
from bot.features.requests.common import enqueue_timer, load_request, redraw, refused, say_in_thread
from bot.jobs.errors import GiveUp
from bot.jobs.registry import Apply
from bot.jobs.slack_calls import call, post_once
from bot.runtime import Runtime
from bot.shopify import documents as gql
from storage import audit, requests
from storage import internal as store
from storage.models import ApprovalRequest, Job


async def _name_of(rt: Runtime, user: str) -> str:
    try:
        info = await rt.slack.users_info(user=user)
        u = info.get("user") or {}
        return (u.get("profile") or {}).get("real_name") or u.get("real_name") or u.get("name") or user
    except Exception:  # a name is a nicety; the Slack id is still in the attributes
        return user


def _snapshot(draft: dict[str, Any], sub: internal.Submission, req: ApprovalRequest) -> dict[str, Any]:
    money = draft["totalPriceSet"]["shopMoney"]
    return {"kind": "internal", "gid": draft["id"], "legacy_id": str(draft["legacyResourceId"]), "name": draft["name"],
            "currency": money["currencyCode"], "total_price": str(Decimal(str(money["amount"]))),
            "total_discounts": "0", "customer_name": None, "requester": req.requester,
            "ship_to": sub.ship_to_label if sub.ship_to_label != "typed" else
            ", ".join(v for k, v in sub.ship_to.items() if k in ("city", "countryCode")),
            "deliver_by": sub.deliver_by, "fields": sub.fields,
            "line_items": [{"title": li["name"], "quantity": li["quantity"], "sku": li.get("sku")}
                           for li in (draft.get("lineItems") or {}).get("nodes") or []]}


async def draft_create(rt: Runtime, job: Job) -> Apply | None:
    """draftOrderCreate for a submitted request, then post it to the approvers and DM the requester."""
    req = await load_request(rt, job)
    if req.status != Status.DRAFTING or not req.order_gid.startswith(PLACEHOLDER):
        return None  # cancelled before we got here, or an earlier attempt already made the draft
    policy = rt.policies.get(req.policy_id)
    if policy is None or policy.internal is None:
        raise GiveUp(f"the internal-order policy {req.policy_id} no longer exists")
    sub = internal.Submission.load(req.request_input)
    draft_input = internal.draft_input(sub, policy, request_id=req.id, requester=req.requester or "",
                                       requester_name=await _name_of(rt, req.requester or ""))
    client = await rt.shopify.get(req.shop_domain)
    draft = None
    if job.attempts > 1:  # an earlier attempt may have made the draft and lost the reply: never make two
        found = await client.execute(gql.DRAFT_ORDERS_BY_TAG, {"query": f"tag:{internal.request_tag(req.id)}"},
                                     name="DraftOrdersByTag")
        draft = next(iter(found.root("draftOrders").get("nodes") or []), None)
    if draft is None and policy.internal.payment == "pending":
        # "Due on receipt" payment terms: completing the draft then leaves the order unpaid (payment pending).
        templates = (await client.execute(gql.PAYMENT_TERMS_TEMPLATES, {"type": "RECEIPT"},
                                          name="PaymentTermsTemplates")).data.get("paymentTermsTemplates") or []
        if not templates:
            raise GiveUp("the shop has no 'due on receipt' payment terms, so payment cannot be left pending")
        draft_input["paymentTerms"] = {"paymentTermsTemplateId": templates[0]["id"]}
    if draft is None:
        result = await client.execute(gql.DRAFT_ORDER_CREATE, {"input": draft_input}, name="DraftOrderCreate",
                                      retry_unknown=False)
        errors = result.user_errors("draftOrderCreate")
        if errors:
            raise GiveUp(f"Shopify would not create the draft: {errors[0].get('message')}")
        draft = result.root("draftOrderCreate")["draftOrder"]

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        current = await requests.get(session, request_id=req.id)
        assert current is not None
        values = {"order_gid": draft["id"], "order_name": draft["name"], "draft_state": "open",
                  "order_snapshot": _snapshot(draft, sub, current)}
        live = current.status == Status.DRAFTING
        # Cancelled meanwhile: still record the draft, so the cancel's job (queued after this one) removes it.
        await store.transition(session, request_id=req.id, version=current.version, now=now,
                               statuses=(current.status,), **({"status": Status.PENDING} if live else {}), **values)
        await audit.append(session, at=now, actor="shopify", kind="draft.created", shop_domain=req.shop_domain,
                           request_id=req.id, data={"draft": draft["id"], "name": draft["name"],
                                                    "total": values["order_snapshot"]["total_price"]})
        if live:
            rt.enqueue(session, JobKind.POST_REQUEST, key=slack_key(req.shop_domain, draft["id"]),
                       payload={"request_id": req.id})
            for timer in timers.schedule(policy.timers, now):
                enqueue_timer(rt, session, request_id=req.id, timer=timer)
        dm_job(session, rt, current)

    return apply


async def draft_create_failed(rt: Runtime, session: AsyncSession, job: Job, error: str) -> None:
    """The draft could not be made: the requester's DM says so, with a Retry button."""
    req = await requests.get(session, request_id=job.payload["request_id"])
    if req is None:
        return
    await store.set_fields(session, request_id=req.id, now=rt.now(), draft_state="failed", draft_error=error)
    dm_job(session, rt, req)


async def _draft_state(rt: Runtime, shop: str, gid: str) -> dict[str, Any] | None:
    client = await rt.shopify.get(shop)
    return (await client.execute(gql.DRAFT_ORDER_STATE, {"id": gid}, name="DraftOrderState")).root("draftOrder") or None


async def draft_complete(rt: Runtime, job: Job) -> Apply | None:
    """draftOrderComplete once, for an approved request only; a retry finds the order an earlier try made."""
    req = await load_request(rt, job)
    if req.status != Status.APPROVED:
        raise GiveUp(f"request {req.id} is {req.status}, not approved: the draft stays a draft")
    client = await rt.shopify.get(req.shop_domain)
    draft = await _draft_state(rt, req.shop_domain, req.order_gid)
    if draft is None:
        raise GiveUp(f"draft {req.order_name} no longer exists in Shopify")
    order = draft.get("order")
    if draft["status"] != "COMPLETED" or not order:
        result = await client.execute(gql.DRAFT_ORDER_COMPLETE, {"id": req.order_gid,
                                                                 "sourceName": internal.SOURCE_NAME},
                                      name="DraftOrderComplete")
        errors = result.user_errors("draftOrderComplete")
        if errors:
            # "already completed": a try that timed out (or the client's own retry) landed; read what it made.
            again = await _draft_state(rt, req.shop_domain, req.order_gid)
            if not (again and again["status"] == "COMPLETED" and again.get("order")):
                raise GiveUp(f"Shopify would not complete draft {req.order_name}: {errors[0].get('message')}")
            order = again["order"]
        else:
            order = result.root("draftOrderComplete")["draftOrder"]["order"]
    # Additive and idempotent: a retry after this point adds nothing twice.
    tags = [internal.TAG, job.payload["tag"]]
    errors = (await client.execute(gql.TAGS_ADD, {"id": order["id"], "tags": tags}, name="TagsAdd")).user_errors("tagsAdd")
    if errors:
        raise GiveUp(f"tagsAdd on {order['name']}: {errors[0].get('message')}")

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await store.set_fields(session, request_id=req.id, now=now, draft_state="completed", outcome_state="done",
                               outcome_error=None, placed_order_gid=order["id"], placed_order_name=order["name"])
        await audit.append(session, at=now, actor="shopify", kind="order.placed", shop_domain=req.shop_domain,
                           request_id=req.id, data={"draft": req.order_gid, "order": order["id"], "name": order["name"]})
        link = admin_url(req.shop_domain, str(order["legacyResourceId"]))
        say_in_thread(rt, session, req, f"Shopify: draft {req.order_name} is now order <{link}|{order['name']}>.")
        redraw(rt, session, req)
        dm_job(session, rt, req)

    return apply


async def draft_complete_failed(rt: Runtime, session: AsyncSession, job: Job, error: str) -> None:
    """Approved but no order: said on the message, in its thread, and in the requester's DM (with Retry)."""
    req = await refused(rt, session, job, error, ":warning: Approved, but Shopify did not turn draft {order} into "
                                                 "an order: {error}. The requester can retry from their DM.")
    if req is not None:
        dm_job(session, rt, req)


async def draft_reject(rt: Runtime, job: Job) -> Apply | None:
    """Tag a rejected (expired, cancelled) draft, or delete it, as the policy says; never a completed one."""
    p = job.payload
    req = await load_request(rt, job)
    state = "none"
    if not req.order_gid.startswith(PLACEHOLDER):
        draft = await _draft_state(rt, req.shop_domain, req.order_gid)
        client = await rt.shopify.get(req.shop_domain)
        if draft is None:
            state = "deleted"  # an earlier attempt deleted it
        elif p.get("delete") and draft["status"] != "COMPLETED":
            result = await client.execute(gql.DRAFT_ORDER_DELETE, {"input": {"id": req.order_gid}},
                                          name="DraftOrderDelete")
            errors = result.user_errors("draftOrderDelete")
            if errors:
                raise GiveUp(f"draftOrderDelete: {errors[0].get('message')}")
            state = "deleted"
        else:
            tags = (await client.execute(gql.TAGS_ADD, {"id": req.order_gid, "tags": [p["tag"]]}, name="TagsAdd")
                    ).user_errors("tagsAdd")
            if tags:
                raise GiveUp(f"tagsAdd on draft {req.order_name}: {tags[0].get('message')}")
            state = "rejected"

    async def apply(session: AsyncSession) -> None:
        now = rt.now()
        await store.set_fields(session, request_id=req.id, now=now, draft_state=state)
        await audit.append(session, at=now, actor="shopify", kind=f"draft.{state}", shop_domain=req.shop_domain,
                           request_id=req.id, data={"draft": req.order_gid, "tag": p.get("tag")})
        if req.message_ts:
            redraw(rt, session, req)
        dm_job(session, rt, req)

    return apply


async def requester_dm(rt: Runtime, job: Job) -> Apply | None:
    """Post (once) or redraw the requester's DM about their request; a one-off line first when given."""
    req = await load_request(rt, job)
    if not req.requester:
        return None
    channel = req.dm_channel or (await call(rt.slack.conversations_open(users=req.requester)))["channel"]["id"]
    view = blocks.dm(req)
    if req.dm_ts:
        await call(rt.slack.chat_update(channel=channel, ts=req.dm_ts, text=view["text"], blocks=view["blocks"]))
        ts = req.dm_ts
    else:
        ts = await post_once(rt, job, channel=channel, text=view["text"], blocks=view["blocks"])

    async def apply(session: AsyncSession) -> None:
        if job.payload.get("text"):  # the why of a decision, as its own DM line (a job: posted once)
            rt.enqueue(session, JobKind.DM, key=dm_key(req.requester),
                       payload={"request_id": req.id, "user": req.requester, "text": job.payload["text"]})
        if ts == req.dm_ts:
            return
        await store.set_fields(session, request_id=req.id, now=rt.now(), dm_channel=channel, dm_ts=ts)
        current = await requests.get(session, request_id=req.id)
        if current is not None and blocks.dm(current) != view:
            dm_job(session, rt, current)  # it moved on while we were posting

    return apply
