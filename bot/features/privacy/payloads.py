"""The privacy webhooks' bodies: what a valid one looks like, and whom it is about.

Shapes from https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance (the three "Payload" examples;
the same in Shopify's app templates):
- customers/data_request: {shop_id, shop_domain, orders_requested: [order id], customer: {id, email, phone},
  data_request: {id}}
- customers/redact: {shop_id, shop_domain, customer: {id, email, phone}, orders_to_redact: [order id]}
- shop/redact: {shop_id, shop_domain}
Shopify's older page said "in some cases, a customer record contains only the customer's email address" (read as
a body with no id in https://community.shopify.com/c/Shopify-APIs-SDKs/When-does-the-customer-redact-webhook-only-send-an-email-address/td-p/652962),
so either `id` or `email` names the customer here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ORDERS_FIELD = {"customers/data_request": "orders_requested", "customers/redact": "orders_to_redact"}
MAX_EMAIL = 320  # RFC 5321's longest address


def _id_ok(value: object) -> bool:
    """A Shopify numeric id (legacy REST ids are integers; a digit string is the same id)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 < value < 10**20
    return isinstance(value, str) and value.isdigit() and 0 < len(value) <= 20


def problem(topic: str, body: object, *, shop: str) -> str | None:
    """Why a privacy webhook's body cannot be acted on (the handler answers 400 with it), or None."""
    if not isinstance(body, dict):
        return f"{topic} body must be a JSON object"
    if not isinstance(body.get("shop_domain"), str) or body["shop_domain"] != shop:
        return f"{topic} body must name the shop of X-Shopify-Shop-Domain in `shop_domain`"
    if topic == "shop/redact":
        return None
    customer = body.get("customer")
    if not isinstance(customer, dict):
        return f"{topic} body must carry a `customer` object"
    cid, email = customer.get("id"), customer.get("email")
    if cid is not None and not _id_ok(cid):
        return f"{topic} body's `customer.id` must be a Shopify customer id"
    if email is not None and not (isinstance(email, str) and 0 < len(email) <= MAX_EMAIL):
        return f"{topic} body's `customer.email` must be a string"
    if cid is None and not email:
        return f"{topic} body must name the customer by `customer.id` or `customer.email`"
    orders = body.get(ORDERS_FIELD[topic], [])
    if not isinstance(orders, list) or not all(_id_ok(o) for o in orders):
        return f"{topic} body's `{ORDERS_FIELD[topic]}` must be a list of order ids"
    return None


@dataclass(frozen=True)
class Subject:
    """Whom a customers/* request is about: the customer's id and email, and the orders Shopify listed."""

    customer_id: str | None
    email: str | None
    orders: tuple[str, ...]
    data_request_id: str | None = None

    @classmethod
    def of(cls, topic: str, body: dict[str, Any]) -> Subject:
        """From a body `problem` accepted."""
        customer = body.get("customer") or {}
        cid, email = customer.get("id"), customer.get("email")
        request = body.get("data_request") if isinstance(body.get("data_request"), dict) else {}
        return cls(str(cid) if cid is not None else None, email.strip().lower() if email else None,
                   tuple(dict.fromkeys(str(o) for o in body.get(ORDERS_FIELD.get(topic, ""), []) or [])),
                   str(request["id"]) if request.get("id") is not None else None)

    def payload(self) -> dict[str, Any]:
        """JSON for a job (scrubbed once the job is done: it names the customer)."""
        return {"customer_id": self.customer_id, "email": self.email, "orders": list(self.orders),
                "data_request_id": self.data_request_id}

    @classmethod
    def load(cls, p: dict[str, Any]) -> Subject:
        """The inverse of payload()."""
        return cls(p.get("customer_id"), p.get("email"), tuple(p.get("orders") or ()), p.get("data_request_id"))
