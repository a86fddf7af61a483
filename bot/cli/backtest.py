"""`holdfast policy test`: what the policies would have done to past orders, streamed with bounded memory."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.approvals.orders import OrderPayloadError, from_graphql, from_webhook
from bot.approvals.policies import PolicySet, match

CHUNK = 1 << 16


class OrdersFileError(ValueError):
    """The orders file is not JSON, JSON lines or a JSON array of orders."""


def read_orders(stream: TextIO) -> Iterator[Any]:
    """Yield each JSON value of a file holding one object, JSON lines, or a JSON array — without loading it whole."""
    decoder = json.JSONDecoder()
    buf, in_array, started, offset = "", False, False, 0
    while True:
        chunk = stream.read(CHUNK)
        buf += chunk
        while True:
            buf = buf.lstrip()
            if not started and buf:
                started = True
                if buf[0] == "[":
                    in_array, buf = True, buf[1:]
                    continue
            if in_array and buf[:1] == ",":
                buf = buf[1:]
                continue
            if in_array and buf[:1] == "]":
                buf = buf[1:].lstrip()
                if buf or stream.read(1).strip():
                    raise OrdersFileError("unexpected data after the closing ] of the orders array")
                return
            if not buf:
                break
            try:
                value, end = decoder.raw_decode(buf)
            except json.JSONDecodeError as exc:
                if chunk:
                    break  # the value continues in the next chunk
                raise OrdersFileError(f"not valid JSON near character {offset + exc.pos}: {exc.msg}") from None
            offset += end
            buf = buf[end:]
            yield value
        if not chunk:
            if in_array:
                raise OrdersFileError("the orders array is not closed with ]")
            return


@dataclass(frozen=True)
class Row:
    """One order's verdict."""

    order: str
    policy: str | None
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Machine-readable form for --json."""
        return {"order": self.order, "policy": self.policy, "reasons": list(self.reasons),
                "missing": list(self.missing), "error": self.error}


@dataclass
class Summary:
    """Counts over the whole run."""

    orders: int = 0
    flagged: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0

    def add(self, row: Row) -> None:
        """Count one row."""
        self.orders += 1
        if row.error:
            self.unreadable += 1
        elif row.policy:
            self.flagged[row.policy] += 1

    def as_json(self) -> dict[str, Any]:
        """Machine-readable form for --json."""
        return {"orders": self.orders, "flagged": dict(self.flagged), "not_flagged":
                self.orders - self.unreadable - sum(self.flagged.values()), "unreadable": self.unreadable}


def evaluate(policies: PolicySet, payloads: Iterable[Any]) -> Iterator[Row]:
    """Match each order payload (webhook REST shape or GraphQL node); bad payloads become error rows."""
    for i, payload in enumerate(payloads, 1):
        label = str(payload.get("name") or payload.get("id")) if isinstance(payload, dict) else f"#{i}"
        try:
            graphql = isinstance(payload, dict) and str(payload.get("id", "")).startswith("gid://")
            facts = from_graphql(payload) if graphql else from_webhook(payload)
        except (OrderPayloadError, TypeError, ValueError, AttributeError) as exc:
            yield Row(label, None, error=f"order {i}: {exc}")
            continue
        hit = match(policies, facts)
        yield Row(facts.name, hit.policy.id if hit else None, hit.reasons if hit else (), hit.missing if hit else ())
