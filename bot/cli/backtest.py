"""`holdfast policy test`: what the policies would have done to past orders, streamed with bounded memory."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.approvals.conditions import facts_used
from bot.approvals.orders import OrderPayloadError, enrich, from_graphql, from_webhook
from bot.approvals.policies import PolicySet, match

CHUNK = 1 << 16
# The facts a webhook body never holds (conditions.GRAPHQL_FACTS), as the operator reads them.
FACT_LABELS = {"customer_tag": "customer tags", "customer_orders_count": "customer orders count",
               "first_order": "first order", "risk_level": "risk level", "risk_recommendation": "risk recommendation",
               "product_tag": "product tags", "product_type": "product types", "b2b": "B2B (bought by a company)"}


def not_in_files(policies: PolicySet) -> list[str]:
    """The facts the enabled policies read that a file of webhook payloads cannot contain."""
    order = list(FACT_LABELS)
    return sorted(policies.graphql_facts, key=lambda f: order.index(f) if f in order else len(order))


def files_note(policies: PolicySet) -> str | None:
    """What to tell the operator once, before testing a file: which facts it cannot hold, and what to do."""
    facts = not_in_files(policies)
    if not facts:
        return None
    users = [p.id for p in policies.policies
             if p.enabled and p.condition is not None and policies.graphql_facts & facts_used(p.condition)]
    labels = ", ".join(FACT_LABELS.get(f, f) for f in facts)
    return (f"note: webhook payloads do not contain {labels} (Shopify reads them through GraphQL), so in this file "
            f"they count as absent and the conditions on them as false (policies: {', '.join(users)}). "
            "Run with --from-shop to read them from the shop.")


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
    """Match each order payload (webhook REST shape, GraphQL node, or (node, OrderEnrichment node) from the shop);
    bad payloads become error rows. A webhook's facts that no webhook holds (`not_in_files`) are said once, up
    front (`files_note`), so they are left out of each row's `missing`."""
    unavailable = set(not_in_files(policies))
    for i, item in enumerate(payloads, 1):
        payload, extra = item if isinstance(item, tuple) else (item, None)
        label = str(payload.get("name") or payload.get("id")) if isinstance(payload, dict) else f"#{i}"
        try:
            graphql = isinstance(payload, dict) and str(payload.get("id", "")).startswith("gid://")
            facts = from_graphql(payload) if graphql else from_webhook(payload)
            if extra is not None:
                facts = enrich(facts, extra)
        except (OrderPayloadError, TypeError, ValueError, AttributeError) as exc:
            yield Row(label, None, error=f"order {i}: {exc}")
            continue
        hit = match(policies, facts)
        missing = hit.missing if hit else ()
        if facts.origin == "webhook":
            missing = tuple(m for m in missing if m not in unavailable - facts.enriched)
        yield Row(facts.name, hit.policy.id if hit else None, hit.reasons if hit else (), missing)
