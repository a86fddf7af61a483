"""Slack action/callback ids (kebab-case enums) and the typed values carried by buttons."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, ValidationError


class ActionId(StrEnum):
    """action_id of every interactive element we send."""

    APPROVE = "request-approve"
    REJECT = "request-reject"


class BlockId(StrEnum):
    """block_id of blocks we look up again."""

    DECISION = "request-decision"


class RequestRef(BaseModel):
    """What a decision button carries: which request, at which version the message was drawn."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    request_id: int
    version: int

    def dump(self) -> str:
        """Compact JSON for a button value (≤ 2,000 chars)."""
        return self.model_dump_json()

    @classmethod
    def parse(cls, raw: str | None) -> RequestRef | None:
        """Parse a button value; None when it is not ours or is malformed."""
        if not raw:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None
