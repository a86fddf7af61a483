"""sandbox.shopify as Shopify documents it: which API versions answer, access scopes, and the bucket per plan."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from graphql import GraphQLSchema

from sandbox.shopify import ShopifySandbox, build_sandbox_schema
from sandbox.shopify.access import ALL_SCOPES, REQUIRED_ACCESS, alternatives, effective
from sandbox.shopify.schema import API_VERSION, SUPPORTED_API_VERSIONS
from tests.sandbox.test_shopify_sandbox import SHOP, TOKEN, gql, make_order

READ_ORDERS_ONLY = {"read_orders", "read_merchant_managed_fulfillment_orders"}


@pytest.fixture
def sb() -> ShopifySandbox:
    sandbox = ShopifySandbox()
    sandbox.add_shop(SHOP, access_token=TOKEN, scopes=READ_ORDERS_ONLY)
    return sandbox


async def post(client: TestClient, version: str, *, token: str = TOKEN, body: Any = None):
    resp = await client.post(f"/{SHOP}/admin/api/{version}/graphql.json", headers={"X-Shopify-Access-Token": token},
                             json=body if body is not None else {"query": "{ shop { name } }"})
    return resp.status, resp.headers.get("X-Shopify-API-Version")


# --- versions ------------------------------------------------------------------------------------
def test_the_supported_versions_are_the_last_four_quarters() -> None:
    assert SUPPORTED_API_VERSIONS == ("2026-01", "2026-04", "2026-07", "2026-10") and API_VERSION == "2026-10"


@pytest.mark.parametrize("version", SUPPORTED_API_VERSIONS)
async def test_each_supported_version_answers_as_itself(client: TestClient, version: str) -> None:
    assert await post(client, version) == (200, version)


@pytest.mark.parametrize("retired", ["2025-04", "2025-10", "2019-04"])
async def test_a_retired_version_falls_forward_to_the_oldest_supported(sb: ShopifySandbox, client: TestClient,
                                                                       retired: str) -> None:
    assert await post(client, retired) == (200, "2026-01")
    # The header says which version answered on failures too.
    assert await post(client, retired, token="shpat_wrong") == (401, "2026-01")
    assert await post(client, retired, body={"variables": {}}) == (400, "2026-01")
    assert sb.calls[-1]["version"] == "2026-01"


@pytest.mark.parametrize("never", ["banana", "2027-04", "2026-02", "unstable"])
async def test_a_version_that_never_was_is_not_found(client: TestClient, never: str) -> None:
    assert await post(client, never) == (404, None)


# --- access scopes: the sandbox's table is Shopify's -------------------------------------------------
def test_required_access_table_is_shopifys_for_every_sandbox_type_and_field(shopify_scopes: dict) -> None:
    schema = build_sandbox_schema()
    mine = {key for key in shopify_scopes if key.split(".")[0] in schema.type_map and (
        "." not in key or key.split(".")[1] in getattr(schema.type_map[key.split(".")[0]], "fields", {}))}
    assert REQUIRED_ACCESS == {key: shopify_scopes[key][1] for key in mine}
    for key, text in REQUIRED_ACCESS.items():
        assert alternatives(text) <= shopify_scopes[key][0], key  # the scopes named are Shopify's alternatives
    assert len(REQUIRED_ACCESS) > 20


def test_write_scopes_grant_read() -> None:
    assert effective({"write_orders", "read_products"}) == {"write_orders", "read_orders", "read_products"}
    assert "read_customers" in ALL_SCOPES and "write_orders" in ALL_SCOPES


# --- access scopes over HTTP ----------------------------------------------------------------------------
CUSTOMER_QUERY = "query Q($id: ID!) { order(id: $id) { id name customer { id displayName } } }"


async def test_a_field_without_its_scope_is_denied_and_the_rest_served(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    status, body = await gql(client, CUSTOMER_QUERY, {"id": order.gid})
    assert status == 200
    assert body["data"] == {"order": {"id": order.gid, "name": "#1001", "customer": None}}
    [error] = body["errors"]
    assert error["message"] == "Access denied for customer field. Required access: `read_customers` access scope."
    assert error["extensions"] == {"code": "ACCESS_DENIED", "requiredAccess": "`read_customers` access scope.",
                                   "documentation": "https://shopify.dev/api/usage/access-scopes"}
    assert error["path"] == ["order", "customer"] and error["locations"] == [{"line": 1, "column": 46}]
    assert "cost" in body["extensions"]


async def test_a_granted_scope_opens_the_field(client: TestClient, sb: ShopifySandbox) -> None:
    sb.add_access_token(SHOP, "shpat_crm", app="crm", scopes=READ_ORDERS_ONLY | {"read_customers"})
    sb.grant_customer_data("crm")  # protected customer data is a separate approval (customer_data.py)
    order = make_order(sb)
    status, body = await gql(client, CUSTOMER_QUERY, {"id": order.gid}, token="shpat_crm")
    assert "errors" not in body and body["data"]["order"]["customer"]["id"]
    # The same document for the first token is still denied: the grant is the token's, not the query's.
    status, body = await gql(client, CUSTOMER_QUERY, {"id": order.gid})
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"


async def test_a_denied_mutation_does_nothing(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    query = """mutation C($id: ID!) { orderCancel(orderId: $id, reason: OTHER, restock: false) {
      job { id } orderCancelUserErrors { message } } }"""
    status, body = await gql(client, query, {"id": order.gid})
    assert body["data"] == {"orderCancel": None} and not sb.jobs
    assert body["errors"][0]["message"] == ("Access denied for orderCancel field. Required access: `write_orders` "
                                            "access scope or `write_marketplace_orders` access scope. Also: This "
                                            "action cannot be reversed.")


async def test_fragments_and_type_conditions_are_checked(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    query = """query F($ids: [ID!]!, $id: ID!) {
      nodes(ids: $ids) { __typename ... on Customer { displayName } ... on Order { name } }
      order(id: $id) { ...Who }
    }
    fragment Who on Order { customer { displayName } }"""
    status, body = await gql(client, query, {"ids": [order.customer.gid, order.gid], "id": order.gid})
    assert body["data"]["nodes"][1] == {"__typename": "Order", "name": "#1001"}
    assert body["data"]["nodes"][0] is None  # displayName is non-null: the denial nulls the whole node
    assert body["data"]["order"] == {"customer": None}
    assert {tuple(e["path"]) for e in body["errors"]} == {("nodes", 0, "displayName"), ("order", "customer")}


async def test_write_scope_reads_too(sb: ShopifySandbox, client: TestClient) -> None:
    sb.add_access_token(SHOP, "shpat_w", app="writer", scopes={"write_orders"})
    order = make_order(sb)
    status, body = await gql(client, "query Q($id: ID!) { order(id: $id) { name } }", {"id": order.gid},
                             token="shpat_w")
    assert body == {**body, "data": {"order": {"name": "#1001"}}} and "errors" not in body


def test_by_default_a_token_holds_every_scope_the_sandbox_asks_for() -> None:
    sandbox = ShopifySandbox()
    sandbox.add_shop("x.myshopify.com", access_token="t")
    assert sandbox.granted("x.myshopify.com", "t") == ALL_SCOPES
    narrow = ShopifySandbox(scopes={"read_orders"})
    narrow.add_shop("x.myshopify.com", access_token="t")
    assert narrow.granted("x.myshopify.com", "t") == {"read_orders"}


# --- the bucket per plan ---------------------------------------------------------------------------
@pytest.mark.parametrize(("plan", "size", "rate"), [("standard", 2000.0, 100.0), ("advanced", 4000.0, 200.0),
                                                    ("plus", 20000.0, 1000.0), ("enterprise", 40000.0, 2000.0)])
async def test_the_bucket_follows_the_shops_plan(plan: str, size: float, rate: float) -> None:
    sandbox = ShopifySandbox()
    sandbox.add_shop(SHOP, access_token=TOKEN, plan=plan)
    async with TestClient(TestServer(sandbox.make_app())) as client:
        _, body = await gql(client, "{ shop { name } }")
    status = body["extensions"]["cost"]["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (size, rate)


async def test_explicit_bucket_overrides_every_plan_and_one_query_stays_capped() -> None:
    sandbox = ShopifySandbox(bucket_size=50_000.0, restore_rate=5.0)
    sandbox.add_shop(SHOP, access_token=TOKEN, plan="plus")
    async with TestClient(TestServer(sandbox.make_app())) as client:
        _, body = await gql(client, "{ shop { name } }")
        assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 50_000.0
        _, body = await gql(client, "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }")
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["errors"][0]["extensions"]["maxCost"] == 1000


def test_an_unknown_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Shopify plan"):
        ShopifySandbox().add_shop(SHOP, access_token=TOKEN, plan="basic-ish")


def test_schema_fixture_is_the_pinned_version(shopify_schema: GraphQLSchema) -> None:
    # 2026-10 has `uri` on webhook subscriptions; 2025-04 had not.
    assert "uri" in shopify_schema.type_map["WebhookSubscription"].fields  # type: ignore[attr-defined]
