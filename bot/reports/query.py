"""`/approvals` command text → a typed query (pure: the clock is passed in; unknown input becomes help)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.approvals.schema import parse_duration


class Sub(StrEnum):
    """The subcommands."""

    QUEUE = "queue"
    HISTORY = "history"
    AUDIT = "audit"
    STATS = "stats"
    HELP = "help"


OUTCOMES = ("approved", "rejected", "expired", "closed")
MANAGER_ONLY = frozenset({Sub.HISTORY, Sub.AUDIT, Sub.STATS})
DEFAULT_WINDOW = {Sub.AUDIT: timedelta(days=30), Sub.STATS: timedelta(days=7)}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
_ADMIN_URL = re.compile(r"^<?https?://[^\s>|]+/orders/(\d+)(?:[/?#][^\s>|]*)?(?:\|[^>]*)?>?$")
_GID = re.compile(r"^gid://shopify/Order/(\d+)$")
_KEYED = re.compile(r"^(policy|shop):(.+)$")


@dataclass(frozen=True)
class OrderRef:
    """An order as typed: its name (#1001) and/or its numeric id (from an id or an admin URL)."""

    name: str | None = None
    legacy_id: str | None = None


@dataclass(frozen=True)
class Query:
    """A parsed command: which subcommand and its filters; `problem` says what was not understood."""

    sub: Sub = Sub.QUEUE
    policy: str | None = None
    shop: str | None = None
    mine: bool = False
    user: str | None = None
    outcomes: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    order: OrderRef | None = None
    problem: str | None = None
    topic: Sub | None = None  # for help: the subcommand the user was trying

    def payload(self) -> dict[str, Any]:
        """JSON-safe filters (a CSV job re-runs exactly this window, even if it runs late)."""
        return {"sub": self.sub.value, "policy": self.policy, "shop": self.shop, "mine": self.mine,
                "user": self.user, "outcomes": list(self.outcomes),
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Query:
        """The inverse of `payload`."""
        when = {k: datetime.fromisoformat(data[k]) if data.get(k) else None for k in ("since", "until")}
        return cls(sub=Sub(data.get("sub", "audit")), policy=data.get("policy"), shop=data.get("shop"),
                   mine=bool(data.get("mine")), user=data.get("user"), outcomes=tuple(data.get("outcomes") or ()),
                   **when)


def _help(problem: str | None, topic: Sub | None = None) -> Query:
    return Query(sub=Sub.HELP, problem=problem, topic=topic)


def parse_when(value: str, now: datetime, *, end: bool = False) -> datetime:
    """'7d' → now − 7 days; '2025-03-01' → that day's start (its end, exclusive, when `end`)."""
    value = value.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return now - parse_duration(value)  # raises ValueError naming the accepted forms
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def parse_order(value: str) -> OrderRef | None:
    """'#1001', '1001', 'gid://shopify/Order/5', or an admin URL → OrderRef; None if it is none of these."""
    value = value.strip()
    if m := _ADMIN_URL.match(value):
        return OrderRef(legacy_id=m.group(1))
    if m := _GID.match(value):
        return OrderRef(legacy_id=m.group(1))
    if re.fullmatch(r"#?[A-Za-z0-9_-]{1,60}", value):
        digits = value.lstrip("#")
        # A bare number may be the order number (#1001) or Shopify's numeric id: look for both.
        return OrderRef(name="#" + digits, legacy_id=digits if digits.isdigit() and not value.startswith("#") else None)
    return None


def _filters(sub: Sub, tokens: list[str], now: datetime) -> Query:
    """Filters after the subcommand; the first token that fits nowhere turns the query into help."""
    query = Query(sub=sub)
    reports = sub in (Sub.AUDIT, Sub.STATS)
    outcomes: list[str] = []
    i = 0
    while i < len(tokens):
        token, low = tokens[i], tokens[i].lower()
        keyed = _KEYED.match(low)
        mention = _MENTION.match(token)
        if keyed and keyed.group(1) == "policy":
            query = replace(query, policy=token.split(":", 1)[1])
        elif keyed and keyed.group(1) == "shop":
            shop = token.split(":", 1)[1].lower()
            query = replace(query, shop=shop if "." in shop else f"{shop}.myshopify.com")
        elif sub is Sub.QUEUE and low == "mine":
            query = replace(query, mine=True)
        elif reports and mention:
            query = replace(query, user=mention.group(1) or mention.group(2))
        elif reports and low in OUTCOMES:
            outcomes.append(low)
        elif reports and low in ("since", "until"):
            if i + 1 >= len(tokens):
                return _help(f"`{low}` needs a date (2025-03-01) or a period (7d, 2w)", sub)
            try:
                stamp = parse_when(tokens[i + 1], now, end=low == "until")
            except ValueError:
                return _help(f"`{tokens[i + 1]}` is not a date (2025-03-01) or a period (7d, 2w)", sub)
            query = replace(query, **{low: stamp})
            i += 1
        else:
            return _help(f"I did not understand `{token}` in `{sub.value}`", sub)
        i += 1
    if reports:
        since = query.since or (query.until or now) - DEFAULT_WINDOW[sub]
        query = replace(query, outcomes=tuple(dict.fromkeys(outcomes)), since=since, until=query.until or now)
        if query.since >= query.until:
            return _help("`since` must come before `until`", sub)
    return query


def parse(text: str | None, now: datetime) -> Query:
    """The whole command text → Query; empty text is the queue, anything unknown is help."""
    tokens = (text or "").split()
    if not tokens:
        return Query(sub=Sub.QUEUE)
    head = tokens[0].lower()
    if head in ("help", "?", "-h", "--help"):
        topic = next((s for s in Sub if tokens[1:] and s.value == tokens[1].lower()), None)
        return _help(None, topic)
    if head == Sub.HISTORY:
        if len(tokens) != 2:
            return _help("`history` takes one order: a name like #1001, an order id or its admin URL", Sub.HISTORY)
        ref = parse_order(tokens[1])
        return Query(sub=Sub.HISTORY, order=ref) if ref else _help(f"`{tokens[1]}` is not an order", Sub.HISTORY)
    if head in (Sub.QUEUE, Sub.AUDIT, Sub.STATS):
        return _filters(Sub(head), tokens[1:], now)
    if head == "mine" or _KEYED.match(head):  # filters without the (default) subcommand
        return _filters(Sub.QUEUE, tokens, now)
    return _help(f"I did not understand `{tokens[0]}`")
