"""Exports (pure): the decisions CSV/JSONL filed by managers and operators, and audit events as JSONL/CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from bot.reports.figures import Outcome

COLUMNS = ("request_id", "shop", "order", "order_id", "policy", "outcome", "decided_by", "requested_at",
           "decided_at", "time_to_decision_s", "sla_s", "sla_breached", "votes", "fields")
EVENT_COLUMNS = ("id", "at", "shop", "request_id", "actor", "kind", "data", "prev_hash", "hash")


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def outcome_record(o: Outcome) -> dict[str, Any]:
    """One decided request as a flat record (the CSV row and the JSONL object)."""
    fields = {v.user: v.fields for v in o.votes if v.fields}
    return {
        "request_id": o.request_id,
        "shop": o.shop,
        "order": o.order_name,
        "order_id": o.order_gid.rsplit("/", 1)[-1],
        "policy": o.policy_id,
        "outcome": o.status,
        "decided_by": o.decided_by or "",
        "requested_at": _iso(o.created_at),
        "decided_at": _iso(o.decided_at),
        "time_to_decision_s": round(o.time_to_decision.total_seconds(), 3),
        "sla_s": round(o.sla.total_seconds()) if o.sla else "",
        "sla_breached": "yes" if o.breached else "no",
        "votes": "; ".join(f"{v.user} {v.vote} {_iso(v.at)}" for v in o.votes),
        "fields": json.dumps(fields, sort_keys=True, ensure_ascii=False) if fields else "",
    }


def _csv(columns: tuple[str, ...], records: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record)
    return out.getvalue()


def _jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)


def outcomes_csv(outcomes: Iterable[Outcome]) -> str:
    """The decisions CSV (header first, one row per decided request)."""
    return _csv(COLUMNS, (outcome_record(o) for o in outcomes))


def outcomes_jsonl(outcomes: Iterable[Outcome]) -> str:
    """The same records, one JSON object per line."""
    return _jsonl(outcome_record(o) for o in outcomes)


def event_record(event: Any) -> dict[str, Any]:
    """An audit row with its hashes (so an exported file can be checked against the chain)."""
    return {"id": event.id, "at": _iso(event.at), "shop": event.shop_domain or "", "request_id": event.request_id,
            "actor": event.actor, "kind": event.kind, "data": event.data, "prev_hash": event.prev_hash,
            "hash": event.hash}


def events_csv(events: Iterable[Any], *, header: bool = True) -> str:
    """Audit rows as CSV (`data` as compact JSON)."""
    rows = ({**r, "data": json.dumps(r["data"], sort_keys=True, ensure_ascii=False)}
            for r in map(event_record, events))
    text = _csv(EVENT_COLUMNS, rows)
    return text if header else text.split("\n", 1)[1]


def events_jsonl(events: Iterable[Any]) -> str:
    """Audit rows as JSON lines."""
    return _jsonl(event_record(e) for e in events)
