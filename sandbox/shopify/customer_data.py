"""Protected customer data: what an app without access sees, in webhooks and in GraphQL.

https://shopify.dev/docs/apps/launch/protected-customer-data: level 1 is customer data excluding name, address,
phone and email; level 2 adds those fields, each approved on its own ("protected customer fields"). "If you
aren't approved to access the data that you requested, then you might need to update your app to handle errors
or redacted data." Custom apps have both levels "always available"; an admin-created custom app (holdfast's
README) has level 2 "varies by plan", so a real install may well get redacted names and emails.

How the sandbox models it, per app (`ShopifySandbox.customer_data`; no access unless granted, as since 2022-10
"APIs will redact customer personal data by default",
https://shopify.dev/changelog/apps-can-now-request-access-to-necessary-protected-data):
- Webhooks: the gated fields are null, the body's structure unchanged (Shopify's words for the same gating of
  pixel payloads: "Gated fields are set to null when not approved. Event structure remains the same.",
  https://community.shopify.dev/t/request-protected-customer-data-scopes-for-web-pixel-pii-access-before-december-10th-2025/25296).
- GraphQL: the data still comes back, with null in place of a protected field and an error in `errors`
  (https://github.com/MONEI/Shopify-api-node/pull/672), worded as Shopify words it
  ("This app is not approved to access the MailingAddress object.", https://github.com/Shopify/shopify-api-js/issues/748).
- Without level 1, webhookSubscriptionCreate refuses topics that carry customer data (orders, draft orders,
  customers) with Shopify's userError (https://github.com/kinngh/shopify-node-express-mongodb-app/issues/84,
  https://github.com/statamic-rad-pack/shopify/issues/333), and the Customer object is denied as a whole.
Which address parts are gated follows the markers on Shopify's address objects ("Learn more about accessing
protected customer data" on address1, name, firstName, lastName, zip; none on city, province, country codes:
https://shopify.dev/docs/api/admin-graphql/2024-01/objects/CustomerCreditCardBillingAddress).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema

PCD_DOCS = "https://shopify.dev/docs/apps/launch/protected-customer-data"
FIELDS = frozenset({"name", "email", "phone", "address"})
SUBSCRIBE_REFUSED = ("This app is not approved to subscribe to webhook topics containing protected customer data. "
                     f"See {PCD_DOCS} for more details.")
# WebhookSubscriptionTopic prefixes whose bodies carry customer data.
PCD_TOPIC_PREFIXES = ("ORDERS_", "DRAFT_ORDERS_", "CUSTOMERS_")


@dataclass(frozen=True)
class Access:
    """One app's approval: level 1 (customer data) and the level-2 fields it may read."""

    level1: bool = False
    fields: frozenset[str] = field(default_factory=frozenset)

    def allows(self, kind: str) -> bool:
        """Whether the app may read fields of this kind (name, email, phone, address)."""
        return self.level1 and kind in self.fields


FULL = Access(True, FIELDS)
NONE = Access()


def grant(level1: bool = True, fields: frozenset[str] | set[str] = FIELDS) -> Access:
    """An approval; unknown field kinds are refused so a typo cannot grant nothing silently."""
    unknown = set(fields) - FIELDS
    if unknown:
        raise ValueError(f"unknown protected customer fields: {sorted(unknown)} (known: {sorted(FIELDS)})")
    return Access(level1, frozenset(fields))


def topic_has_customer_data(topic: str) -> bool:
    """Whether a topic (ORDERS_CREATE or orders/create) carries protected customer data."""
    return topic.upper().replace("/", "_").startswith(PCD_TOPIC_PREFIXES)


# --- webhooks ------------------------------------------------------------------------------------------------
_ADDRESS = {"first_name": "name", "last_name": "name", "name": "name", "phone": "phone", "address1": "address",
            "address2": "address", "zip": "address", "latitude": "address", "longitude": "address"}
_ORDER = {"email": "email", "contact_email": "email", "phone": "phone"}
_CUSTOMER = {"first_name": "name", "last_name": "name", "email": "email", "phone": "phone"}


def _scrub(obj: Any, fields: dict[str, str], access: Access) -> None:
    if isinstance(obj, dict):
        for key, kind in fields.items():
            if key in obj and not access.allows(kind):
                obj[key] = None


def redact_order_body(body: dict[str, Any], access: Access) -> dict[str, Any]:
    """An orders/* body as an app with `access` receives it (a copy; the original is untouched)."""
    if access == FULL:
        return body
    out = copy.deepcopy(body)
    _scrub(out, _ORDER, access)
    for key in ("billing_address", "shipping_address"):
        _scrub(out.get(key), _ADDRESS, access)
    customer = out.get("customer")
    _scrub(customer, _CUSTOMER, access)
    if isinstance(customer, dict):
        _scrub(customer.get("default_address"), _ADDRESS, access)
    for line in out.get("shipping_lines") or []:
        _scrub(line, {"phone": "phone"}, access)
    return out


# --- GraphQL -------------------------------------------------------------------------------------------------
# (type, field) -> kind. A redacted nullable field is null; a non-null one (Customer.displayName) nulls its
# parent, as GraphQL propagates any field error.
PROTECTED: dict[tuple[str, str], str] = {
    ("Customer", "firstName"): "name", ("Customer", "lastName"): "name", ("Customer", "displayName"): "name",
    ("Customer", "email"): "email", ("Customer", "defaultEmailAddress"): "email",
    ("Customer", "phone"): "phone", ("Customer", "defaultPhoneNumber"): "phone",
    ("Customer", "defaultAddress"): "address",
    ("Order", "email"): "email", ("Order", "phone"): "phone",
    ("DraftOrder", "email"): "email", ("DraftOrder", "phone"): "phone",
    **{("MailingAddress", f): kind for f, kind in {
        "firstName": "name", "lastName": "name", "name": "name", "phone": "phone", "address1": "address",
        "address2": "address", "zip": "address", "latitude": "address", "longitude": "address"}.items()},
}
# Fields that lead to a Customer: without level 1 the object is denied as a whole.
CUSTOMER_GATES = (("Order", "customer"), ("DraftOrder", "customer"), ("QueryRoot", "customer"))


def denied(type_name: str) -> GraphQLError:
    """Shopify's refusal for a protected object or field the app is not approved for."""
    return GraphQLError(f"This app is not approved to access the {type_name} object. See {PCD_DOCS} for more "
                        "details.", extensions={"code": "ACCESS_DENIED", "documentation": PCD_DOCS})


def _guard(type_name: str, allowed: Callable[[Access], bool], resolve: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        if not allowed(info.context.sb.customer_data_for(info.context.app)):
            raise denied(type_name)
        return resolve(source, info, **args)

    return guarded


def _wrap(schema: GraphQLSchema, where: tuple[str, str], denied_as: str, allowed: Callable[[Access], bool],
          default_resolver: Callable[..., Any]) -> None:
    fdef = getattr(schema.type_map.get(where[0]), "fields", {}).get(where[1])
    if fdef is not None:  # a field this schema does not serve needs no guard
        fdef.resolve = _guard(denied_as, allowed, fdef.resolve or default_resolver)


def protect(schema: GraphQLSchema, default_resolver: Callable[..., Any]) -> None:
    """Guard the protected fields, and the ways to a Customer, with the calling app's approval."""
    for (type_name, field_name), kind in PROTECTED.items():
        _wrap(schema, (type_name, field_name), type_name, lambda a, k=kind: a.allows(k), default_resolver)
    for where in CUSTOMER_GATES:
        _wrap(schema, where, "Customer", lambda a: a.level1, default_resolver)
