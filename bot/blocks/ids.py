"""Slack action/callback ids (kebab-case enums) and the typed values carried by buttons and modals."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError


class ActionId(StrEnum):
    """action_id of every interactive element we send."""

    APPROVE = "request-approve"
    REJECT = "request-reject"
    DELEGATE = "request-delegate"
    MORE = "approvals-more"  # next page of an /approvals reply (queue or history)
    ORDER_PRODUCT = "order-request-product"  # external_select: options come from a Shopify variant search
    ORDER_QUANTITY = "order-request-quantity"
    ORDER_INPUT = "order-request-input"  # every other input of the /order-request modal
    ORDER_CANCEL = "order-request-cancel"  # on the requester's DM
    ORDER_RETRY = "order-request-retry"  # on the requester's DM, after a Shopify failure


class BlockId(StrEnum):
    """block_id of blocks we look up again."""

    DECISION = "request-decision"
    QUEUE_ITEM = "queue-item"  # + "-<request id>": one per request in a list (block_ids are unique per message)
    # /order-request modal; "-<key>" is bot.approvals.internal's error key (item-0, qty-0, address, deliver-by …)
    ORDER = "order"
    ORDER_ACTIONS = "order-request-actions"


class CallbackId(StrEnum):
    """callback_id of our modals."""

    DECISION = "decision-modal"
    ORDER_REQUEST = "order-request-modal"


class _Typed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> str:
        """Compact JSON (button values ≤ 2,000 chars, private_metadata ≤ 3,000)."""
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def parse(cls, raw: str | None):
        """Parse a value we sent; None when it is not ours or is malformed."""
        if not raw:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None


class RequestRef(_Typed):
    """What a decision button carries: which request, at which version, and whether it opens a modal."""

    request_id: int
    version: int
    form: bool = False


class DecisionMeta(_Typed):
    """A decision modal's private_metadata."""

    request_id: int
    version: int
    vote: Literal["approve", "reject"]


class OrderRequestMeta(_Typed):
    """The /order-request modal's private_metadata: the policy it was opened under, the channel to answer in."""

    policy_id: str
    channel: str | None = None


class OrderRef(_Typed):
    """What the requester's Cancel and Retry buttons carry."""

    request_id: int
