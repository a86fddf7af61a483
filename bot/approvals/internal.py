"""Internal orders (/order-request): validate the modal's input and map a request to Shopify's draft input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.approvals import fields as field_check
from bot.approvals.schema import Policy

TAG = "internal-order"  # on the draft and on the order it becomes
SOURCE_NAME = "holdfast"  # draftOrderComplete's sourceName: reports and policies can recognise our orders
REQUEST_ATTRIBUTE = "holdfast_request"  # custom attribute naming the request (loop guard, support)
ITEM_ROWS = 5  # product rows in the modal (each an external_select + a quantity)
TYPED = "typed"  # the ship-to choice meaning "the address typed below"
MAX_QUANTITY = 10_000
_VARIANT = re.compile(r"^gid://shopify/ProductVariant/\d+$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True)
class RawForm:
    """What the modal submitted, before any check (read from view.state by bot/blocks/order_request.py)."""

    shop: str | None
    items: tuple[tuple[str | None, str | None], ...]  # (variant gid, quantity text) per row
    address: str | None = None  # a saved address label, or TYPED
    address_text: str | None = None
    deliver_by: str | None = None
    field_state: dict[str, Any] = field(default_factory=dict)  # view.state.values, for fields.validate


@dataclass(frozen=True)
class Submission:
    """A valid request: lines merged by variant, ship-to as a MailingAddressInput."""

    shop: str
    lines: tuple[tuple[str, int], ...]
    ship_to: dict[str, str]
    ship_to_label: str
    deliver_by: str
    fields: dict[str, Any]

    def dump(self) -> dict[str, Any]:
        """JSON stored with the request (the draft job rebuilds the input from it)."""
        return {"shop": self.shop, "lines": [list(x) for x in self.lines], "ship_to": self.ship_to,
                "ship_to_label": self.ship_to_label, "deliver_by": self.deliver_by, "fields": self.fields}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Submission:
        """The inverse of dump()."""
        return cls(data["shop"], tuple((g, int(q)) for g, q in data["lines"]), dict(data["ship_to"]),
                   data["ship_to_label"], data["deliver_by"], dict(data["fields"]))


def parse_address(text: str | None) -> dict[str, str] | None:
    """'Name / street [/ more] / postcode city / CC', one per line → MailingAddressInput; None if not that shape."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) < 4 or not _COUNTRY.match(lines[-1]):
        return None
    first, _, last = lines[0].partition(" ")
    postcode, _, city = lines[-2].partition(" ")
    if not city:  # no postcode: the whole line is the city
        postcode, city = "", lines[-2]
    out = {"firstName": first, "lastName": last, "address1": lines[1], "city": city,
           "countryCode": lines[-1].upper()}
    if len(lines) > 4:
        out["address2"] = ", ".join(lines[2:-2])
    if postcode:
        out["zip"] = postcode
    return {k: v for k, v in out.items() if v}


def saved_address(policy: Policy, label: str) -> dict[str, str] | None:
    """A saved address from the policy as a MailingAddressInput."""
    assert policy.internal is not None
    a = policy.internal.addresses.get(label)
    if a is None:
        return None
    first, _, last = a.name.partition(" ")
    out = {"firstName": first, "lastName": last, "company": a.company, "address1": a.address1,
           "address2": a.address2, "city": a.city, "zip": a.zip, "provinceCode": a.province_code,
           "countryCode": a.country_code}
    return {k: v for k, v in out.items() if v}


def _lines(items: tuple[tuple[str | None, str | None], ...], errors: dict[str, str]) -> list[tuple[str, int]]:
    merged: dict[str, int] = {}
    for n, (variant, qty) in enumerate(items):
        qty = (qty or "").strip()
        if not variant:
            if qty and qty != "1":  # a quantity for no product is a mistake; the default 1 alone is not
                errors[f"item-{n}"] = "Pick a product for this quantity."
            continue
        if not _VARIANT.match(variant):
            errors[f"item-{n}"] = "Unknown product variant: search and pick it again."
            continue
        try:
            number = int(qty or "1")
        except ValueError:
            errors[f"qty-{n}"] = "Enter a whole number, like 2."
            continue
        if number < 1:
            errors[f"qty-{n}"] = "The quantity must be at least 1."
        elif number > MAX_QUANTITY:
            errors[f"qty-{n}"] = f"At most {MAX_QUANTITY:,} per line."
        else:
            merged[variant] = merged.get(variant, 0) + number
    return list(merged.items())


def validate(raw: RawForm, policy: Policy, *, shops: list[str], today: date) -> tuple[Submission | None, dict[str, str]]:
    """(the submission, or None with errors keyed "item-N", "qty-N", "address", "deliver-by", "field-<id>"…)."""
    assert policy.internal is not None
    errors: dict[str, str] = {}
    shop = raw.shop or (shops[0] if len(shops) == 1 else None)
    if shop not in shops:
        errors["shop"] = "Pick the shop to order from."
    lines = _lines(raw.items, errors)
    if not lines and not any(k.startswith(("item-", "qty-")) for k in errors):
        errors["item-0"] = "Add at least one product."
    label = raw.address or (TYPED if raw.address_text else None)
    ship_to = None
    if label is None:
        errors["address"] = "Pick a saved address or type one below."
    elif label == TYPED:
        ship_to = parse_address(raw.address_text)
        if ship_to is None:
            errors["address-text"] = "One item per line: name, street, postcode and city, country code (e.g. DE)."
    else:
        ship_to = saved_address(policy, label)
        if ship_to is None:
            errors["address"] = "That saved address no longer exists; pick another."
    try:
        day = date.fromisoformat(raw.deliver_by or "")
    except ValueError:
        errors["deliver-by"] = "Pick the date it is needed by."
    else:
        if day < today:
            errors["deliver-by"] = "That date is in the past."
    values, field_errors = field_check.validate(policy.internal.fields, raw.field_state, today=today)
    errors.update(field_errors)
    if errors:
        return None, errors
    assert shop is not None and ship_to is not None
    return Submission(shop, tuple(lines), ship_to, "typed" if label == TYPED else label, day.isoformat(), values), {}


def unknown(sub_items: tuple[tuple[str | None, str | None], ...], found: set[str]) -> dict[str, str]:
    """Errors for picked variants Shopify does not know (deleted since the search, or tampered with)."""
    return {f"item-{n}": "This product is no longer available: search again." for n, (v, _) in enumerate(sub_items)
            if v and _VARIANT.match(v) and v not in found}


def request_tag(request_id: int) -> str:
    """The draft's own tag: lets a retry find a draft an earlier, unanswered attempt already made."""
    return f"holdfast-request-{request_id}"


def draft_input(sub: Submission, policy: Policy, *, request_id: int, requester: str, requester_name: str) -> dict[str, Any]:
    """DraftOrderInput: lines, ship-to, note, custom attributes for the fields, tags, and the pricing."""
    assert policy.internal is not None
    labels = {f.id: f.label for f in policy.internal.fields}
    attributes = [{"key": REQUEST_ATTRIBUTE, "value": str(request_id)},
                  {"key": "Requested by", "value": f"{requester_name} ({requester})"},
                  {"key": "Deliver by", "value": sub.deliver_by}]
    attributes += [{"key": labels.get(k, k), "value": str(v)} for k, v in sub.fields.items()]
    out: dict[str, Any] = {
        "lineItems": [{"variantId": v, "quantity": q} for v, q in sub.lines],
        "shippingAddress": sub.ship_to,
        "note": f"Internal order requested in Slack by {requester_name} (holdfast request #{request_id}); "
                f"needed by {sub.deliver_by}.",
        "customAttributes": attributes,
        "tags": [TAG, policy.tags.pending, request_tag(request_id)],
    }
    if policy.internal.pricing == "free":
        out["appliedDiscount"] = {"value": 100.0, "valueType": "PERCENTAGE", "title": "Internal order",
                                  "description": f"holdfast request #{request_id}"}
    return out


def own_request_id(order: dict[str, Any]) -> int | None:
    """The request an order was completed from, when it carries our source name, tag and request attribute."""
    tags = order.get("tags") or ""
    tags = [t.strip() for t in (tags.split(",") if isinstance(tags, str) else tags)]
    if order.get("source_name") != SOURCE_NAME or TAG not in tags:
        return None
    for attr in order.get("note_attributes") or []:
        if attr.get("name") == REQUEST_ATTRIBUTE and str(attr.get("value", "")).isdigit():
            return int(attr["value"])
    return None


def option_text(node: dict[str, Any]) -> str:
    """'Hoodie · M · SKU HOOD-M · 12 in stock' (Slack cuts option text at 75 characters)."""
    product = (node.get("product") or {}).get("title") or node.get("displayName") or "?"
    parts = [product]
    if node.get("title") and node["title"] != "Default Title":
        parts.append(node["title"])
    if node.get("sku"):
        parts.append(f"SKU {node['sku']}")
    stock = node.get("inventoryQuantity")
    parts.append("stock unknown" if stock is None else f"{stock} in stock")
    text = " · ".join(parts)
    return text if len(text) <= 75 else text[:74] + "…"


def search_query(typed: str) -> str:
    """Shopify search syntax for what the user typed: every word must match (title or SKU), active products only."""
    # Quote each word: a typed `sku:` or `OR` stays text instead of becoming search syntax.
    words = [w.replace("\\", "").replace('"', "") for w in re.split(r"\s+", typed.strip()) if w][:5]
    return " ".join([*(f'"{w}"' for w in words if w), "product_status:active"])
