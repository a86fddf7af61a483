"""`holdfast policy test`: what the policies would have done to past orders, streamed with bounded memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.approvals.conditions import GRAPHQL_FACTS, facts_used
from bot.approvals.explain import decisive
from bot.approvals.orders import OrderFacts, OrderPayloadError, enrich, from_graphql, from_webhook
from bot.approvals.policies import PolicySet, match
from bot.blocks.money import format_money
from bot.cli.orders_file import CHUNK, Entry, OrdersFileError, read_entries, read_orders
from bot.cli.words import plural

__all__ = ["CHUNK", "OrdersFileError", "Row", "Summary", "evaluate", "files_note", "not_in_files", "orders_in",
           "read_entries", "read_orders"]

# The facts a webhook body never holds (conditions.GRAPHQL_FACTS), as the operator reads them.
FACT_LABELS = {"customer_tag": "customer tags", "customer_orders_count": "customer orders count",
               "first_order": "first order", "risk_level": "risk level", "risk_recommendation": "risk recommendation",
               "product_tag": "product tags", "product_type": "product types", "b2b": "B2B (bought by a company)"}


def _in_label_order(facts: Iterable[str]) -> list[str]:
    order = list(FACT_LABELS)
    return sorted(facts, key=lambda f: order.index(f) if f in order else len(order))


def not_in_files(policies: PolicySet) -> list[str]:
    """The facts the enabled policies read that a file of webhook payloads cannot contain."""
    return _in_label_order(policies.graphql_facts)


def files_note(policies: PolicySet) -> str | None:
    """What to tell the operator once, before testing a file: which facts it cannot hold, which policies read
    them, and what to do."""
    facts = not_in_files(policies)
    if not facts:
        return None
    users = []
    for p in policies.policies:
        if p.enabled and p.condition is not None and (theirs := GRAPHQL_FACTS & facts_used(p.condition)):
            short = (FACT_LABELS.get(f, f).split(" (")[0] for f in _in_label_order(theirs))
            users.append(f"{p.id} ({', '.join(short)})")
    labels = ", ".join(FACT_LABELS.get(f, f) for f in facts)
    return (f"note: webhook payloads do not contain {labels} (Shopify reads them through GraphQL), so in this file "
            f"they count as absent and the conditions on them as false for {plural(len(users), 'policy', 'policies')}"
            f": {'; '.join(users)}. Run with --from-shop to read them from the shop.")


def customer_of(facts: OrderFacts) -> str | None:
    """Who ordered, as the operator recognises them: name and email when the order has both."""
    name, email = facts.customer_name, facts.customer_email
    if name and email and name != email:  # orders.py names a customer by their email when they gave no name
        return f"{name} <{email}>"
    return name or email


@dataclass(frozen=True)
class Row:
    """One order's verdict (or, with `error`, one input that could not be read and was skipped)."""

    order: str
    policy: str | None
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    error: str | None = None
    total: str | None = None  # written as the Slack message writes it (bot/blocks/money)
    customer: str | None = None
    shipstation: str | None = None  # what the flagging policy's `shipstation:` block would do there (issue #20)

    def as_json(self) -> dict[str, Any]:
        """Machine-readable form for --json."""
        return {"order": self.order, "policy": self.policy, "reasons": list(self.reasons),
                "missing": list(self.missing), "error": self.error, "total": self.total, "customer": self.customer,
                "shipstation": self.shipstation}


@dataclass
class Summary:
    """Counts over the whole run: orders read, and inputs skipped because they could not be read."""

    orders: int = 0
    flagged: Counter[str] = field(default_factory=Counter)
    skipped: int = 0

    @property
    def unreadable(self) -> int:
        """The former name of `skipped` (bench/backtest.py reads it)."""
        return self.skipped

    def add(self, row: Row) -> None:
        """Count one row."""
        if row.error:
            self.skipped += 1
            return
        self.orders += 1
        if row.policy:
            self.flagged[row.policy] += 1

    def as_json(self) -> dict[str, Any]:
        """Machine-readable form for --json."""
        return {"orders": self.orders, "flagged": dict(self.flagged),
                "not_flagged": self.orders - sum(self.flagged.values()), "skipped": self.skipped}


def orders_in(items: Iterable[Any], *, source: str | None = None) -> Iterator[tuple[OrderFacts | None, str, str]]:
    """(facts, label, "") for each readable order, (None, label, why) for each input that is not one. An item is
    an `Entry` of a file, a payload (webhook REST shape or GraphQL node), or (node, OrderEnrichment node)."""
    for i, item in enumerate(items, 1):
        line = item.line if isinstance(item, Entry) else None
        where = f"{source}:{line}" if source and line else f"line {line}" if line else f"order {i}"
        if isinstance(item, Entry) and item.error:
            yield None, f"line {line}", f"{where}: {item.error}"
            continue
        payload = item.value if isinstance(item, Entry) else item
        payload, extra = payload if isinstance(payload, tuple) else (payload, None)
        label = str(payload.get("name") or payload.get("id")) if isinstance(payload, dict) else where
        try:
            graphql = isinstance(payload, dict) and str(payload.get("id", "")).startswith("gid://")
            facts = from_graphql(payload) if graphql else from_webhook(payload)
            if extra is not None:
                facts = enrich(facts, extra)
        except (OrderPayloadError, TypeError, ValueError, AttributeError) as exc:
            yield None, label, f"{where}: not an order: {exc}"
            continue
        yield facts, label, ""


def evaluate(policies: PolicySet, payloads: Iterable[Any], *, source: str | None = None) -> Iterator[Row]:
    """Match each order (see `orders_in`); inputs that are not orders become error rows. A row's `missing` holds
    only facts that decided its result, and never those no webhook holds (`not_in_files`): a file's are said once,
    up front (`files_note`)."""
    unavailable = set(not_in_files(policies))
    for facts, label, error in orders_in(payloads, source=source):
        if facts is None:
            yield Row(label, None, error=error)
            continue
        hit = decisive(match(policies, facts), facts)
        missing = hit.missing if hit else ()
        if facts.origin == "webhook":
            missing = tuple(m for m in missing if m not in unavailable - facts.enriched)
        rules = hit.policy.shipstation if hit else None
        yield Row(facts.name, hit.policy.id if hit else None, hit.reasons if hit else (), missing,
                  total=format_money(facts.total_price, facts.currency), customer=customer_of(facts),
                  shipstation=rules.describe() if rules is not None else None)
