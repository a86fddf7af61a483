"""Query cost and the leaky bucket, the way Shopify documents them (pure: no I/O, no clock).

Scalars and enums cost 0, objects 1, a connection 2 plus its page size times the cost
of one item, a mutation root field 10. Shopify charges the requested cost up front and
refunds the difference once the actual cost (real page sizes) is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
OBJECT_COST = 1
CONNECTION_BASE_COST = 2

# Restore rate per plan, points/second, from the plan table of https://shopify.dev/docs/apps/build/apis/graphql-admin/
# rate-limits (Standard 100, Advanced Shopify 200, Shopify Plus 1000, Shopify for enterprise 2000). That page gives
# no bucket size; the bucket holds 20 seconds of restore, the ratio Shopify's earlier table published for every plan
# (1,000 points at 50/s, 2,000 at 100/s, 10,000 at 500/s).
PLANS: dict[str, float] = {"standard": 100.0, "advanced": 200.0, "plus": 1000.0, "enterprise": 2000.0}
BUCKET_SECONDS = 20
# A single query may cost at most 1,000 points, whatever the plan (same page, its single query limit).
SINGLE_QUERY_MAX = 1000


def plan_bucket(plan: str) -> tuple[float, float]:
    """(bucket size, restore rate) of a shop on `plan`."""
    if plan not in PLANS:
        raise ValueError(f"unknown Shopify plan {plan!r}: one of {', '.join(PLANS)}")
    return PLANS[plan] * BUCKET_SECONDS, PLANS[plan]

_Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    actual: bool  # False: size connections by first/last; True: by the items in `data`


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Requested cost of an operation, or its actual cost when the response `data` is given."""
    walk = _Walk(schema, fragments, variables or {}, actual=data is not None)
    if operation.operation == OperationType.MUTATION:
        roots = _fields(walk, operation.selection_set)
        return MUTATION_COST * sum(1 for _, f in roots if not f.name.value.startswith("__"))
    root = schema.query_type
    assert root is not None
    return _selection_cost(walk, operation.selection_set, root, data)


def _fields(walk: _Walk, selection_set: SelectionSetNode | None) -> list[tuple[str | None, FieldNode]]:
    """Flatten fragments: (type condition or None, field) pairs."""
    out: list[tuple[str | None, FieldNode]] = []
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            out.append((None, sel))
        elif isinstance(sel, InlineFragmentNode):
            cond = sel.type_condition.name.value if sel.type_condition else None
            out += [(cond or c, f) for c, f in _fields(walk, sel.selection_set)]
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in walk.fragments:
            frag = walk.fragments[sel.name.value]
            out += [(frag.type_condition.name.value, f) for _, f in _fields(walk, frag.selection_set)]
    return out


def _selection_cost(walk: _Walk, selection_set: SelectionSetNode | None, parent: _Composite, data: Any) -> int:
    """Cost of a selection on `parent`; for abstract types, the costliest possible type."""
    fields = _fields(walk, selection_set)
    if isinstance(parent, GraphQLObjectType):
        return sum(_field_cost(walk, f, parent, data) for _, f in fields)
    best = 0
    for obj in walk.schema.get_possible_types(parent):
        names = {parent.name, obj.name, *(i.name for i in obj.interfaces)}
        applicable = [f for cond, f in fields if cond is None or cond in names]
        best = max(best, sum(_field_cost(walk, f, obj, data) for f in applicable))
    return best


def _sub(data: Any, node: FieldNode) -> Any:
    key = node.alias.value if node.alias else node.name.value
    return data.get(key) if isinstance(data, dict) else None


def _arg(walk: _Walk, node: FieldNode, name: str) -> Any:
    for arg in node.arguments:
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, walk.variables)
    return None


def _field_cost(walk: _Walk, node: FieldNode, parent: GraphQLObjectType, data: Any) -> int:
    name = node.name.value
    if name.startswith("__") or name not in parent.fields:
        return 0
    named = get_named_type(parent.fields[name].type)
    if is_leaf_type(named):
        return 0
    value = _sub(data, node)
    if walk.actual and value is None:
        return 0
    if named.name.endswith("Connection") and "edges" in getattr(named, "fields", {}):
        return CONNECTION_BASE_COST + _items_cost(walk, node, named, value)
    if isinstance(value, list):
        # A plain list of objects costs one object per returned element when known.
        return sum(OBJECT_COST + _selection_cost(walk, node.selection_set, named, v) for v in value)
    return OBJECT_COST + _selection_cost(walk, node.selection_set, named, value)


def _items_cost(walk: _Walk, node: FieldNode, conn: GraphQLObjectType, value: Any) -> int:
    """Cost of a connection's items: page size x per-item cost (or the real items)."""
    size = _arg(walk, node, "first") or _arg(walk, node, "last") or 0
    total = 0
    for _, sub in _fields(walk, node.selection_set):
        sub_name = sub.name.value
        if sub_name == "nodes":
            item_type = get_named_type(conn.fields["nodes"].type)
            items = _sub(value, sub) if walk.actual else [None] * int(size)
            total += sum(OBJECT_COST + _selection_cost(walk, sub.selection_set, item_type, i) for i in items or ())
        elif sub_name == "edges":
            edge_type = get_named_type(conn.fields["edges"].type)
            edges = _sub(value, sub) if walk.actual else [None] * int(size)
            total += sum(_selection_cost(walk, sub.selection_set, edge_type, e) for e in edges or ())
    return total


@dataclass
class LeakyBucket:
    """Shopify's per-app, per-shop cost bucket: drains by query cost, refills at `restore_rate`/s."""

    maximum: float
    restore_rate: float
    available: float
    updated_at: float

    def refill(self, now: float) -> None:
        """Credit the points restored since the last look."""
        elapsed = max(0.0, now - self.updated_at)
        self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.updated_at = now

    def try_take(self, cost: float, now: float) -> bool:
        """Charge `cost` if the bucket can pay it now; charge nothing otherwise."""
        self.refill(now)
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def refund(self, amount: float) -> None:
        """Give back points charged up front but not used."""
        self.available = min(self.maximum, self.available + max(0.0, amount))

    def status(self) -> dict[str, float]:
        """The `throttleStatus` object of a response's cost extension."""
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": float(int(self.available)),
            "restoreRate": float(self.restore_rate),
        }
