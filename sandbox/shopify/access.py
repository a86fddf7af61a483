"""Access scopes: Shopify answers a field only when the app's token was granted a scope it requires.

Each type and field below carries Shopify's own `requiredAccess` text for Admin API 2026-10 (from Shopify's
reference, the same data as ../shared/shopify/admin-2026-10.scopes.json; a test proves the two agree for every
type and field of the sandbox's schema). The scopes named in a text before "Also:" are alternatives: any one
of them will do. "Any scope that writes a resource also grants read access to it"
(https://shopify.dev/docs/api/usage/access-scopes, "How it works").

A field the token may not read fails alone: Shopify answers it with null and an ACCESS_DENIED error naming
the field and the access it requires, and the rest of the document is served
(https://shopify.dev/changelog/new-error-messages-for-graphql-operations-without-necessary-access-scopes:
"Access denied for <field-name>. Required access: <access scope required> access scope", with
`extensions.code`, `documentation` and `requiredAccess`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)

DOCUMENTATION = "https://shopify.dev/api/usage/access-scopes"

_FO_READ = ("`read_assigned_fulfillment_orders` access scope, `read_merchant_managed_fulfillment_orders` access "
            "scope, `read_third_party_fulfillment_orders` access scope or `read_marketplace_fulfillment_orders` "
            "access scope.")
_DRAFT_READ = "`read_draft_orders` access scope or `read_quick_sale` access scope."
_DRAFT_WRITE = ("`write_draft_orders` access scope or `write_quick_sale` access scope. Also: The user must have "
                "access to ")
_FO_WRITE_ALSO = " Also: The user must have fulfill_and_ship_orders permission."

_B2B = ("`read_customers` access scope or `read_companies` access scope. Also: The shop must have access to B2B. "
        "Some operations may require additional plan capabilities.")

# "Type" or "Type.field" -> Shopify's requiredAccess, for the sandbox's types and fields that have one.
REQUIRED_ACCESS: dict[str, str] = {
    "Company": _B2B,
    "CompanyContact": _B2B,
    "CompanyLocation": _B2B,
    "Customer": "`read_customers` access scope.",
    "CustomerEmailAddress": "`read_customers` access scope.",
    "DraftOrder": _DRAFT_READ,
    "DraftOrderAppliedDiscount": "`read_draft_orders` access scope.",
    "DraftOrderLineItem": _DRAFT_READ,
    "FulfillmentHold": _FO_READ,
    "FulfillmentHold.heldByApp": "`read_apps` access scope.",
    "FulfillmentOrder": _FO_READ,
    "FulfillmentOrderLineItem": ("`read_assigned_fulfillment_orders` access scope, "
                                 "`read_merchant_managed_fulfillment_orders` access scope or "
                                 "`read_third_party_fulfillment_orders` access scope."),
    "LineItem": "`read_orders` access scope or `read_marketplace_orders` access scope.",
    "Mutation.draftOrderComplete": ("`write_draft_orders` access scope. Also: The user must have access to mark as "
                                    "paid, or set payment terms."),
    "Mutation.draftOrderCreate": _DRAFT_WRITE + "manage draft orders.",
    "Mutation.draftOrderDelete": _DRAFT_WRITE + "delete draft orders.",
    "Mutation.fulfillmentOrderHold": ("`write_merchant_managed_fulfillment_orders` access scope or "
                                      "`write_third_party_fulfillment_orders` access scope." + _FO_WRITE_ALSO),
    "Mutation.fulfillmentOrderReleaseHold": ("`write_merchant_managed_fulfillment_orders` access scope, "
                                             "`write_third_party_fulfillment_orders` access scope or "
                                             "`write_marketplace_fulfillment_orders` access scope." + _FO_WRITE_ALSO),
    "Mutation.orderCancel": ("`write_orders` access scope or `write_marketplace_orders` access scope. Also: This "
                             "action cannot be reversed."),
    "Mutation.orderUpdate": ("`write_orders` access scope, `write_marketplace_orders` access scope or "
                             "`write_quick_sale` access scope. Also: The app must have the "
                             "`write_pos_staff_member_event_attribution_overrides` access scope to assign events to "
                             "another staff member."),
    "PaymentTerms": "`read_payment_terms` access scope.",
    "Order": ("`read_orders` access scope, `read_marketplace_orders` access scope or `read_quick_sale` access "
              "scope."),
    "OrderCancelUserError": "`read_orders` access scope or `read_marketplace_orders` access scope.",
    "OrderRiskAssessment": "`read_orders` access scope.",
    "OrderRiskSummary": "`read_orders` access scope.",
    "Product": "`read_products` access scope.",
    "ProductVariant": "`read_products` access scope.",
    "RiskFact": "`read_orders` access scope.",
}


def alternatives(required_access: str) -> frozenset[str]:
    """The scopes a requiredAccess text accepts, any one of them: those named before "Also:"."""
    return frozenset(re.findall(r"`(\w+)`", required_access.split(" Also:")[0]))


ALL_SCOPES = frozenset(s for text in REQUIRED_ACCESS.values() for s in alternatives(text))


def effective(granted: Iterable[str]) -> frozenset[str]:
    """The granted scopes plus the read scope every write scope brings."""
    scopes = set(granted)
    return frozenset(scopes | {"read_" + s.removeprefix("write_") for s in scopes if s.startswith("write_")})


@dataclass(frozen=True)
class Need:
    """A field of a document and the access each of its requirements asks for (all must be met)."""

    node: FieldNode
    required: tuple[tuple[frozenset[str], str], ...]  # (alternatives, requiredAccess text)


class _Collect(Visitor):
    def __init__(self, type_info: TypeInfo, table: dict[str, Any], out: list[Any]) -> None:
        super().__init__()
        self.type_info, self.table, self.out = type_info, table, out

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent, definition = self.type_info.get_parent_type(), self.type_info.get_field_def()
        if parent is None or definition is None or node.name.value.startswith("__"):
            return
        # The type the field sits on (reached through a fragment on an interface, say), the field itself, and the
        # type it returns: Shopify guards types and fields alike.
        keys = (parent.name, f"{parent.name}.{node.name.value}", get_named_type(definition.type).name)
        found = tuple(dict.fromkeys(k for k in keys if k in self.table))
        if found:
            self.out.append((node, found))


def touched(schema: GraphQLSchema, document: DocumentNode, table: Any) -> list[tuple[FieldNode, tuple[str, ...]]]:
    """(field, the keys of `table` it touches) for every field of a validated document, fragments included."""
    type_info = TypeInfo(schema)
    out: list[tuple[FieldNode, tuple[str, ...]]] = []
    visit(document, TypeInfoVisitor(type_info, _Collect(type_info, table, out)))
    return out


def needs(schema: GraphQLSchema, document: DocumentNode) -> list[Need]:
    """What each field of a (validated) document requires of the token; computed once per query text."""
    return [Need(node, tuple((alternatives(REQUIRED_ACCESS[k]), REQUIRED_ACCESS[k]) for k in keys))
            for node, keys in touched(schema, document, REQUIRED_ACCESS)]


@dataclass
class Guard:
    """Denials for one document and one grant: field node id -> the requiredAccess it lacks."""

    denied: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, document_needs: list[Need], granted: frozenset[str]) -> Guard:
        have = effective(granted)
        denied: dict[int, str] = {}
        for need in document_needs:
            missing = next((text for alts, text in need.required if have.isdisjoint(alts)), None)
            if missing is not None:
                denied[id(need.node)] = missing
        return cls(denied)

    def resolve(self, next_: Any, root: Any, info: Any, **args: Any) -> Any:
        """As graphql-core middleware (an object with `resolve`): a denied field raises, so it is answered null
        with the error; the others resolve as usual."""
        missing = self.denied.get(id(info.field_nodes[0]))
        if missing is not None:
            raise GraphQLError(f"Access denied for {info.field_name} field. Required access: {missing}",
                               extensions={"code": "ACCESS_DENIED", "documentation": DOCUMENTATION,
                                           "requiredAccess": missing})
        return next_(root, info, **args)
