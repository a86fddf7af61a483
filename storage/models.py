"""SQLModel tables. Datetimes are timezone-aware UTC (SQLModel stores them as UTC on every backend)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Shop(SQLModel, table=True):
    """A Shopify shop this install serves."""

    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(max_length=255, unique=True)
    # A Fernet token (storage/secrets.py), never the plaintext; kept out of repr(). Text: sealing grows a token
    # by a third plus 76 characters, and Shopify has lengthened its tokens before
    # (https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing).
    # NULL once the app is uninstalled (its tokens are revoked) or before a client-credentials shop's first grant.
    access_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True), repr=False)
    created_at: datetime
    # How the token is obtained (bot/shopify/tokens.py): "legacy" (a static token from SHOPIFY_SHOPS),
    # "client_credentials" (the merchant's own store) or "authorization_code" (installed through /shopify/install).
    grant_type: str = Field(default="legacy", max_length=24, sa_column_kwargs={"server_default": "legacy"})
    token_expires_at: datetime | None = None  # None: the token does not expire
    refresh_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True), repr=False)  # sealed
    refresh_expires_at: datetime | None = None
    scopes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # as Shopify granted them
    installed_at: datetime | None = None
    uninstalled_at: datetime | None = None
    # The renewal lease: one process renews a shop's token; the others wait for it in the table.
    renew_until: datetime | None = None
    renew_owner: str | None = Field(default=None, max_length=128)
    token_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # the last grant refusal


class ApprovalRequest(SQLModel, table=True):
    """One flagged order waiting for (or past) a decision; `version` is the compare-and-set guard."""

    __tablename__ = "approval_request"
    __table_args__ = (
        UniqueConstraint("shop_domain", "order_gid", name="uq_request_order"),
        Index("ix_request_status_created", "status", "created_at", "id"),
        Index("ix_request_policy_status", "policy_id", "status", "created_at"),
        Index("ix_request_decided_at", "decided_at"),
        Index("ix_request_order_name", "order_name"),
        Index("ix_request_requester", "requester", "created_at"),
        Index("ix_request_channel_unposted", "channel", "message_ts"),  # a channel's backlog (bot/flood.py)
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_domain: str = Field(max_length=255, index=True)
    order_gid: str = Field(max_length=255)
    order_name: str = Field(max_length=64)
    status: str = Field(max_length=16, index=True)
    version: int = 0
    policy_id: str = Field(max_length=128)
    policy_hash: str = Field(max_length=64)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    order_snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requester: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=64)
    message_ts: str | None = Field(default=None, max_length=32)
    drawn: str | None = Field(default=None, max_length=64)  # fingerprint of what the message shows (skips no-op redraws)
    hold_state: str = Field(default="pending", max_length=16)
    hold_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hold_error: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None
    assignee: str | None = Field(default=None, max_length=64)  # set by delegation
    creator: str | None = Field(default=None, max_length=64)  # Slack id of who created the order, if known
    outcome_state: str | None = Field(default=None, max_length=16)  # the decision's effect in Shopify
    outcome_error: str | None = Field(default=None, sa_column=Column(Text))
    # Internal orders (/order-request): order_gid is the draft's gid (a placeholder until Shopify made it).
    kind: str = Field(default="order", max_length=16)  # "order" (flagged) or "internal" (requested in Slack)
    draft_state: str | None = Field(default=None, max_length=16)  # creating, open, failed, completed, rejected, deleted
    draft_error: str | None = Field(default=None, sa_column=Column(Text))
    placed_order_gid: str | None = Field(default=None, max_length=255)  # the order the approved draft became
    placed_order_name: str | None = Field(default=None, max_length=64)
    request_input: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dm_channel: str | None = Field(default=None, max_length=64)  # the requester's DM about this request
    dm_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime
    updated_at: datetime


class Decision(SQLModel, table=True):
    """One vote on a request; an approver votes once."""

    __table_args__ = (UniqueConstraint("request_id", "user_id", name="uq_decision_vote"),
                      Index("ix_decision_user", "user_id", "at"))

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_request.id", index=True)
    user_id: str = Field(max_length=64)
    vote: str = Field(max_length=16)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained record of every step; `hash` covers the row and the previous hash."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    shop_domain: str | None = Field(default=None, max_length=255)
    request_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    # The erasable part (storage/audit.py): {"salt", "values"} of the row's personal data, NULL once erased (or
    # when it had none); `hash` covers `personal_digest`, which outlives the erasure. NULL on rows of before 0007.
    personal: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    personal_digest: str | None = Field(default=None, max_length=64)


class WebhookReceipt(SQLModel, table=True):
    """A Shopify delivery we accepted; the unique ids make a redelivery a no-op."""

    __tablename__ = "webhook_receipt"
    __table_args__ = (UniqueConstraint("topic", "event_id", name="uq_receipt_event"),
                      Index("ix_receipt_received_at", "received_at"))  # pruning (storage/retention.py)

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: str = Field(max_length=128, unique=True)
    event_id: str | None = Field(default=None, max_length=128)
    topic: str = Field(max_length=128)
    shop_domain: str = Field(max_length=255)
    received_at: datetime


class Job(SQLModel, table=True):
    """A durable side effect (transactional outbox); jobs sharing a `key` run in id order."""

    __table_args__ = (Index("ix_job_due", "status", "run_at"), Index("ix_job_key", "key", "id"),
                      Index("ix_job_status_updated", "status", "updated_at"))  # pruning (storage/retention.py)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    key: str = Field(max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    run_at: datetime
    attempts: int = 0
    max_attempts: int = 8
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    lease_until: datetime | None = None
    created_at: datetime
    updated_at: datetime


class PeriodicRun(SQLModel, table=True):
    """A lease on one period of a periodic job: the unique (name, period_start) lets one instance run it."""

    __tablename__ = "periodic_run"
    __table_args__ = (UniqueConstraint("name", "period_start", name="uq_periodic_run_period"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    period_start: datetime
    owner: str = Field(max_length=128)
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))


class ShopWatermark(SQLModel, table=True):
    """How far reconciliation has read a shop's orders (Shopify's updatedAt, not our clock)."""

    __tablename__ = "shop_watermark"

    shop_domain: str = Field(max_length=255, primary_key=True)
    orders_updated_at: datetime
    updated_at: datetime


class RequestCopy(SQLModel, table=True):
    """Another message showing a request (an escalation post or DM), redrawn with the original."""

    __tablename__ = "request_copy"
    __table_args__ = (UniqueConstraint("request_id", "channel", name="uq_request_copy_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_request.id")
    channel: str = Field(max_length=64)
    ts: str = Field(max_length=32)
    created_at: datetime


class ChannelFlood(SQLModel, table=True):
    """A channel's flood summary: while its backlog of unposted requests is large, one message sums it up."""

    __tablename__ = "channel_flood"

    channel: str = Field(max_length=64, primary_key=True)
    active: bool = False  # a flood is on: the summary is kept current until the backlog is posted
    number: int = 0  # floods so far in this channel (tells a job drawing an old flood from the current one)
    ts: str | None = Field(default=None, max_length=32)  # the current (or last) flood's summary message
    started_at: datetime
    ended_at: datetime | None = None
    drawn_at: datetime | None = None  # when the summary was last posted or redrawn
    updated_at: datetime


class ShipStationKey(SQLModel, table=True):
    """A shop's ShipStation API key (issue #20), sealed like the Shopify tokens (storage/secrets.py)."""

    __tablename__ = "shipstation_keys"

    shop_domain: str = Field(max_length=255, primary_key=True)
    key_sealed: str = Field(sa_column=Column(Text, nullable=False), repr=False)  # a Fernet token, never the key
    updated_at: datetime


class ShipStationShipment(SQLModel, table=True):
    """What holdfast did to a request's ShipStation shipment: held, routed, or why not (storage/shipstation.py)."""

    __tablename__ = "shipstation_shipments"
    __table_args__ = (Index("ix_shipstation_shop_state", "shop_domain", "state", "updated_at"),)

    request_id: int = Field(foreign_key="approval_request.id", primary_key=True)
    shop_domain: str = Field(max_length=255)
    shipment_id: str | None = Field(default=None, max_length=64)  # ShipStation's "se-…" id, once found
    state: str = Field(default="looking", max_length=16)  # storage.shipstation.STATES
    hold_until: date | None = None
    warehouse_id: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # tags holdfast added
    detail: str | None = Field(default=None, sa_column=Column(Text))  # ShipStation's refusal, for the operator
    looked_until: datetime | None = None  # the end of the bounded wait for the shipment to appear
    updated_at: datetime
