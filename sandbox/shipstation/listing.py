"""GET /v2/shipments: filters, sort and pages (https://docs.shipstation.com/list-shipments,
https://docs.shipstation.com/apis/openapi/shipments/list_shipments).

Only the documented filters filter: a query parameter the API does not know (shipment_number=,
external_shipment_id=) is ignored, so the answer is every shipment of the account, as an unknown parameter is by a
REST API that does not validate them; a client must match what it looks for in what comes back, or use
GET /v2/shipments/external_shipment_id/{id}.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .errors import bad_field
from .operations import parse_moment
from .records import Account, Shipment

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .state import ShipStationSandbox

# The list filter's enum does not include on_hold ("Enum: pending, processing, label_purchased, cancelled"):
# shipment_status=on_hold is refused, the harsher reading; a held shipment is listed without the filter.
FILTER_STATUSES = ("pending", "processing", "label_purchased", "cancelled")
SORT_BY = ("modified_at", "created_at")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500  # not documented for this endpoint; the bulk endpoints' 500


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_field(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise bad_field(f"{name} must be between {low} and {high}")
    return value


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def matches(s: Shipment, query: Mapping[str, str]) -> bool:
    if "batch_id" in query:  # "If you filter by batch, the API will ignore ... every other filter": no batches here
        return False
    if (status := query.get("shipment_status")) and s.status != status:
        return False
    if (tag := query.get("tag")) and tag not in s.tags:  # tags match exactly, case and all
        return False
    for field, moment in (("created_at", s.created_at), ("modified_at", s.modified_at)):
        if (start := query.get(f"{field}_start")) and _aware(moment) < _aware(parse_moment(f"{field}_start", start)):
            return False
        if (end := query.get(f"{field}_end")) and _aware(moment) > _aware(parse_moment(f"{field}_end", end)):
            return False
    return True


def list_shipments(sb: ShipStationSandbox, account: Account, query: Mapping[str, str], *,
                   base_url: str) -> dict[str, Any]:
    if (status := query.get("shipment_status")) and status not in FILTER_STATUSES:
        raise bad_field(f"shipment_status must be one of {', '.join(FILTER_STATUSES)}")
    sort_by = query.get("sort_by", "created_at")
    if sort_by not in SORT_BY:
        raise bad_field(f"sort_by must be one of {', '.join(SORT_BY)}")
    sort_dir = query.get("sort_dir", "desc")  # newest first unless asked: a client must page to find old ones
    if sort_dir not in ("asc", "desc"):
        raise bad_field("sort_dir must be asc or desc")
    page = _int(query, "page", 1, 1, 1_000_000)
    page_size = _int(query, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    found = [s for s in sb.shipments.values() if s.account == account.shop and matches(s, query)]
    found.sort(key=lambda s: (_aware(getattr(s, sort_by)), s.shipment_id), reverse=sort_dir == "desc")
    pages = max(1, math.ceil(len(found) / page_size)) if found else 0
    chunk = found[(page - 1) * page_size: page * page_size]

    def link(n: int) -> dict[str, str]:
        if n < 1 or n > pages:
            return {}
        return {"href": f"{base_url}/v2/shipments?{urlencode({**query, 'page': n, 'page_size': page_size})}"}

    return {"shipments": [s.to_json() for s in chunk], "total": len(found), "page": page, "pages": pages,
            "links": {"first": link(1), "last": link(pages), "prev": link(page - 1), "next": link(page + 1)}}
