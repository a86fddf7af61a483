"""holdfast's Shopify access scopes (shopify.app.toml, read by bot/shopify/scopes.py) are exactly those its GraphQL documents need.

What a document needs comes from Shopify's own table (../shared/shopify/admin-2026-10.scopes.json): every type and
field a document touches (its fields, fragments included, and the types they return) may require access, and the
scopes Shopify lists for one are alternatives. A write scope grants its read scope too
(https://shopify.dev/docs/api/usage/access-scopes: "Any scope that writes a resource also grants read access to it").
"""

from __future__ import annotations

import re

import pytest
from graphql import GraphQLSchema, parse

from bot.shopify import documents
from bot.shopify.scopes import ACCESS_SCOPES, WHY
from sandbox.shopify.access import effective, touched
from tests.conftest import ROOT_DIR

Table = dict[str, tuple[frozenset[str], str]]


def needs(schema: GraphQLSchema, table: Table, text: str) -> dict[str, frozenset[str]]:
    """What a document touches that requires access (Type or Type.field) -> the scopes any one of which grants it."""
    return {key: table[key][0] for _, keys in touched(schema, parse(text), table) for key in keys}


@pytest.fixture(scope="module")
def required(shopify_schema: GraphQLSchema, shopify_scopes: Table) -> dict[str, dict[str, frozenset[str]]]:
    return {name: needs(shopify_schema, shopify_scopes, text) for name, text in documents.ALL.items()}


def test_declared_scopes_grant_everything_every_document_touches(required) -> None:
    have = effective(ACCESS_SCOPES)
    missing = sorted(f"{name}: {where} needs one of {sorted(alts)}" for name, reqs in required.items()
                     for where, alts in reqs.items() if have.isdisjoint(alts))
    assert not missing, "declare the scope in shopify.app.toml ([access_scopes]), its reason in bot/shopify/scopes.py WHY (and the README):\n" + "\n".join(missing)


def test_every_declared_scope_is_needed_by_some_document(required) -> None:
    wanted = {s for reqs in required.values() for alts in reqs.values() for s in alts}
    unused = [s for s in ACCESS_SCOPES if s not in wanted and "read_" + s.removeprefix("write_") not in wanted]
    assert not unused, f"no document needs {unused}: drop them from shopify.app.toml and bot/shopify/scopes.py"
    implied = [s for s in ACCESS_SCOPES
               if s.startswith("read_") and "write_" + s.removeprefix("read_") in ACCESS_SCOPES]
    assert not implied, f"{implied}: the write scope declared beside each already grants it"


def test_the_reconciliation_poll_needs_read_customers(required) -> None:
    # The gap this test was written for: the poll reads `customer { … }`, which only read_customers grants.
    assert required["ReconcileOrders"]["Customer"] == {"read_customers"}
    assert "read_customers" in ACCESS_SCOPES


def test_the_check_sees_fragments_and_what_fields_return(shopify_schema: GraphQLSchema, shopify_scopes: Table) -> None:
    # Guard against a walk that sees nothing: a customer read through a fragment, and a mutation root field.
    found = needs(shopify_schema, shopify_scopes, """
        query A($id: ID!) { order(id: $id) { ...C } }
        fragment C on Order { customer { id } }""")
    assert set(found) == {"Order", "Customer"}
    found = needs(shopify_schema, shopify_scopes, "mutation { tagsAdd(id: \"x\", tags: []) { node { id } } "
                                                  "draftOrderDelete(input: {id: \"x\"}) { deletedId } }")
    assert set(found) == {"Mutation.draftOrderDelete"}


def test_readme_scope_table_is_the_declared_list() -> None:
    readme = (ROOT_DIR / "README.md").read_text(encoding="utf-8")
    table = readme.split("grant these access scopes", 1)[1].split("\n\n", 2)[1]
    rows = [re.fullmatch(r"\| `(\w+)` \| (.+) \|", line) for line in table.splitlines()[2:]]
    assert all(rows), f"README scope table rows must read | `scope` | why |:\n{table}"
    assert {r.group(1): r.group(2) for r in rows if r} == WHY
