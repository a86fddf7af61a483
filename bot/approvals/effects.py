"""Job kinds, the effects the pure core asks for, and the one function that builds each job key.

A job key is an ordering lane: jobs that share a key run one after another, in the order they were queued
(an order's hold before its release, a message's post before its redraws). Every key holdfast writes is built
here, so the lanes are visible in one place and a typo cannot split one lane in two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobKind(StrEnum):
    """Every durable side effect; each has one JobSpec, registered by the feature that owns it."""

    # Requests and decisions (bot/features/requests)
    PROCESS_ORDER = "order.process"
    HOLD = "shopify.hold"
    RELEASE = "shopify.release"
    TAGS = "shopify.tags"
    CANCEL = "shopify.cancel"
    CANCEL_CHECK = "shopify.cancel_check"
    FULFILLMENT_ORDERS_READY = "shopify.fulfillment_orders_ready"  # routed or due: wake the holds that wait
    POST_REQUEST = "slack.post_request"
    UPDATE_REQUEST = "slack.update_request"
    EPHEMERAL = "slack.ephemeral"
    THREAD_NOTICE = "slack.thread_notice"
    DM = "slack.dm"
    # Timers and escalation copies (bot/features/timers)
    TIMER = "timer.fire"
    POST_COPY = "slack.post_copy"
    # Periodic work (bot/features/reconcile, bot/features/upkeep)
    DIGEST = "slack.digest"
    RECONCILE = "shopify.reconcile"
    WEBHOOK_CHECK = "shopify.webhook_check"
    AUDIT_CHECKPOINT = "upkeep.audit_checkpoint"  # the chain's head, signed, published outside the database
    PRUNE = "upkeep.prune"  # finished jobs, receipts and periodic runs past their retention (bot/features/upkeep)
    # Internal orders (bot/features/internal_orders)
    DRAFT_CREATE = "shopify.draft_create"
    DRAFT_COMPLETE = "shopify.draft_complete"
    DRAFT_REJECT = "shopify.draft_reject"
    REQUESTER_DM = "slack.requester_dm"
    # A flooded channel's summary (bot/features/flood)
    FLOOD_SUMMARY = "slack.flood_summary"
    # App Home (bot/features/home): everyone who sees a request, then one user's tab (coalesced per user)
    HOME_REFRESH = "slack.home_refresh"
    HOME_PUBLISH = "slack.home_publish"
    # Reports (bot/features/reporting): the audit CSV to the caller's DM
    REPORT_CSV = "slack.report_csv"
    # Privacy webhooks (bot/features/privacy): one delivery's work (a data request's file, a redaction)
    PRIVACY_REQUEST = "privacy.request"

    APP_UNINSTALLED = "shopify.app_uninstalled"  # app/uninstalled: tokens gone, approvers told (bot/features/install)
    # ShipStation (bot/features/shipstation): hold the order's shipment, apply the decision, check both
    SHIPSTATION_FLAG = "shipstation.flag"
    SHIPSTATION_DECIDE = "shipstation.decide"
    SHIPSTATION_RECONCILE = "shipstation.reconcile"


@dataclass(frozen=True)
class Effect:
    """A job to enqueue; jobs with the same key run one after another, in order."""

    kind: JobKind
    key: str
    payload: dict[str, Any] = field(default_factory=dict)


def shopify_key(shop: str, order_gid: str) -> str:
    """An order's (or draft's) Shopify effects: hold before release, tags after both."""
    return f"shopify:{shop}:{order_gid}"


def shipstation_key(shop: str, order_gid: str) -> str:
    """An order's ShipStation effects: its hold before its decision, one lane per order."""
    return f"shipstation:{shop}:{order_gid}"


def slack_key(shop: str, order_gid: str) -> str:
    """A request's Slack effects: post before update before thread replies."""
    return f"slack:{shop}:{order_gid}"


def order_key(shop: str, order_id: object) -> str:
    """Processing one order's webhooks (orders/create and orders/updated of one order run in order)."""
    return f"order:{shop}:{order_id}"


def fulfillment_order_key(shop: str, fulfillment_order_gid: str) -> str:
    """A fulfillment_orders/* webhook's processing (one fulfillment order's news, in order); the gid's number
    keeps the key inside the column (128)."""
    return f"fo:{shop}:{fulfillment_order_gid.rsplit('/', 1)[-1]}"


def timer_key(request_id: int, timer: str) -> str:
    """A request's timer: distinct from its Shopify and Slack keys so it never blocks them."""
    return f"timer:{request_id}:{timer}"


def copy_key(request_id: int, target: str) -> str:
    """An escalation copy of a request, per channel or user it goes to."""
    return f"copy:{request_id}:{target}"


def dm_key(user: str) -> str:
    """Direct messages to one user, in order."""
    return f"dm:{user}"


def requester_dm_key(request_id: int) -> str:
    """The DM that follows one internal request for its requester."""
    return f"requester-dm:{request_id}"


def ephemeral_key(user: str) -> str:
    """Only-you-can-see-this replies to one user."""
    return f"ephemeral:{user}"


def flood_key(channel: str) -> str:
    """A channel's flood summary: its jobs run one at a time, in order."""
    return f"flood:{channel}"


def home_key(request_id: int) -> str:
    """Refreshing the Homes that show one request."""
    return f"home:{request_id}"


def home_user_key(user: str) -> str:
    """Publishing one user's Home tab."""
    return f"home-user:{user}"


def report_key(user: str) -> str:
    """Reports sent to one user."""
    return f"report:{user}"


def privacy_key(shop: str) -> str:
    """A shop's privacy requests and their files, in the order Shopify sent them: a data request's file is read
    before a redaction that came after it erases what it would show."""
    return f"privacy:{shop}"


def install_key(shop: str) -> str:
    """A shop's install and uninstall, in the order Shopify sent them."""
    return f"install:{shop}"


def periodic_key(kind: JobKind, shop: str) -> str:
    """A periodic pass over one shop: two passes over the same shop never run at once."""
    return f"{kind.value}:{shop}"


CHECKPOINT_KEY = "audit-checkpoint"  # one checkpoint at a time, in order
PRUNE_KEY = "prune"  # one pruning pass at a time for the whole installation
DIGEST_KEY = "digest"  # the managers' daily digest: one lane for the whole installation
