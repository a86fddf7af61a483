"""sandbox.shopify: schema honesty, HTTP protocol, holds, tags, search, cost/throttling, faults, webhooks."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from graphql import (
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    get_operation_ast,
    is_non_null_type,
    parse,
    print_ast,
    validate,
)

from sandbox.shopify import API_VERSION, ShopifySandbox, build_sandbox_schema
from sandbox.shopify.cost import LeakyBucket, operation_cost
from sandbox.webhooks import sign_shopify_webhook
from tests.sandbox.conftest import FakeClock

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
VECTORS = SHARED / "vectors" / "signature_vectors.json"

SHOP = "demo.myshopify.com"
TOKEN = "shpat_test"
URL = f"/{SHOP}/admin/api/{API_VERSION}/graphql.json"
SANDBOX_SCHEMA = build_sandbox_schema()
SANDBOX_TYPES = sorted(n for n in SANDBOX_SCHEMA.type_map if not n.startswith("__"))


# --- the subset-of-the-real-schema proof ---------------------------------------------------------
@pytest.fixture(scope="module")
def real_schema(shopify_schema: GraphQLSchema) -> GraphQLSchema:
    return shopify_schema  # Admin API 2026-10, the version the sandbox serves (tests/conftest.py)


def _default(arg: Any) -> str | None:
    """An argument's / input field's default as SDL text (graphql-core 3.2 and 3.3 store it differently)."""
    node = arg.ast_node.default_value if arg.ast_node else None
    return print_ast(node) if node else None


def _required(arg: Any) -> bool:
    return is_non_null_type(arg.type) and _default(arg) is None


def _deprecation(where: str, ours: Any, theirs: Any) -> list[str]:
    """A field, argument, input field or enum value must be deprecated exactly as Shopify deprecates it."""
    if ours.deprecation_reason == theirs.deprecation_reason:
        return []
    return [f"{where}: deprecation {ours.deprecation_reason!r}, really {theirs.deprecation_reason!r}"]


def subset_problems(mine: GraphQLSchema, real: GraphQLSchema, name: str) -> list[str]:
    """Every way type `name` of `mine` is not a faithful subset of `real`."""
    ours, theirs = mine.type_map[name], real.type_map.get(name)
    if theirs is None:
        return [f"{name}: no such type in the real schema"]
    if type(ours) is not type(theirs):
        return [f"{name}: is a {type(ours).__name__}, really a {type(theirs).__name__}"]
    out: list[str] = []
    if isinstance(ours, (GraphQLObjectType, GraphQLInterfaceType)):
        real_ifaces = {i.name for i in theirs.interfaces}
        out += [f"{name}: does not really implement {i.name}" for i in ours.interfaces if i.name not in real_ifaces]
        for fname, fdef in ours.fields.items():
            rdef = theirs.fields.get(fname)
            if rdef is None:
                out.append(f"{name}.{fname}: invented field")
                continue
            if str(fdef.type) != str(rdef.type):
                out.append(f"{name}.{fname}: {fdef.type}, really {rdef.type}")
            out += _deprecation(f"{name}.{fname}", fdef, rdef)
            for aname, arg in fdef.args.items():
                rarg = rdef.args.get(aname)
                if rarg is None:
                    out.append(f"{name}.{fname}({aname}): invented argument")
                    continue
                if str(arg.type) != str(rarg.type) or _default(arg) != _default(rarg):
                    out.append(f"{name}.{fname}({aname}): {arg.type} = {_default(arg)}, really {rarg.type} = {_default(rarg)}")
                out += _deprecation(f"{name}.{fname}({aname})", arg, rarg)
            out += [f"{name}.{fname}: required argument {a} omitted" for a, r in rdef.args.items() if a not in fdef.args and _required(r)]
    elif isinstance(ours, GraphQLInputObjectType):
        for fname, fdef in ours.fields.items():
            rdef = theirs.fields.get(fname)
            if rdef is None:
                out.append(f"{name}.{fname}: invented input field")
            else:
                if str(fdef.type) != str(rdef.type) or _default(fdef) != _default(rdef):
                    out.append(f"{name}.{fname}: {fdef.type} = {_default(fdef)}, really {rdef.type} = {_default(rdef)}")
                out += _deprecation(f"{name}.{fname}", fdef, rdef)
        out += [f"{name}: required input field {f} omitted" for f, r in theirs.fields.items() if f not in ours.fields and _required(r)]
        if getattr(ours, "is_one_of", False) != getattr(theirs, "is_one_of", False):
            out.append(f"{name}: @oneOf {getattr(ours, 'is_one_of', False)}, really {getattr(theirs, 'is_one_of', False)}")
    elif isinstance(ours, GraphQLEnumType):
        out += [f"{name}.{v}: invented enum value" for v in ours.values if v not in theirs.values]
        out += [p for v in ours.values if v in theirs.values
                for p in _deprecation(f"{name}.{v}", ours.values[v], theirs.values[v])]
    elif isinstance(ours, GraphQLUnionType):
        real_members = {t.name for t in theirs.types}
        out += [f"{name}: invented member {t.name}" for t in ours.types if t.name not in real_members]
    return out


@pytest.mark.parametrize("type_name", SANDBOX_TYPES)
def test_sandbox_type_is_a_true_subset_of_shopify(real_schema: GraphQLSchema, type_name: str) -> None:
    assert subset_problems(SANDBOX_SCHEMA, real_schema, type_name) == []


def test_sandbox_root_types_match_shopify(real_schema: GraphQLSchema) -> None:
    assert SANDBOX_SCHEMA.query_type.name == real_schema.query_type.name == "QueryRoot"
    assert SANDBOX_SCHEMA.mutation_type.name == real_schema.mutation_type.name == "Mutation"
    assert len(SANDBOX_TYPES) > 80  # the check above covers a real schema, not an empty one


def test_subset_check_catches_inventions(real_schema: GraphQLSchema) -> None:
    fake = build_schema("""
        type Query { a: Int }
        type FulfillmentHold { id: ID! handle: String! madeUp: Int }
        enum FulfillmentHoldReason { OTHER MADE_UP }
        input FulfillmentOrderHoldInput { handle: String = "x" }
        type Order { lineItems(first: Int!, reverse: Boolean = true): LineItemConnection! }
        type LineItemConnection { pageInfo: String }
        scalar URL
        type Customer { email: String }
        type QueryRoot { webhookSubscriptions(callbackUrl: URL): Int }
        input OrderCancelRefundMethodInput { originalPaymentMethodsRefund: Boolean }
        input WebhookSubscriptionInput { callbackUrl: URL }
    """)
    names = ("FulfillmentHold", "FulfillmentHoldReason", "FulfillmentOrderHoldInput", "Order", "LineItemConnection",
             "Customer", "QueryRoot", "OrderCancelRefundMethodInput", "WebhookSubscriptionInput")
    problems = [p for n in names for p in subset_problems(fake, real_schema, n)]
    joined = "\n".join(problems)
    for expected in ("FulfillmentHold.handle: String!", "FulfillmentHold.madeUp: invented field",
                     "FulfillmentHoldReason.MADE_UP", "required input field reason omitted",
                     "FulfillmentOrderHoldInput.handle", "Order.lineItems(first)", "Order.lineItems(reverse)", "LineItemConnection.pageInfo",
                     # deprecations are part of the contract: fields, arguments, input fields; and @oneOf
                     "Customer.email: deprecation None", "QueryRoot.webhookSubscriptions(callbackUrl): deprecation None",
                     "WebhookSubscriptionInput.callbackUrl: deprecation None", "OrderCancelRefundMethodInput: @oneOf False"):
        assert expected in joined


# --- helpers -------------------------------------------------------------------------------------
@pytest.fixture
def sb(clock: FakeClock) -> ShopifySandbox:
    sandbox = ShopifySandbox(clock=clock, bucket_size=1000.0, restore_rate=50.0)
    sandbox.add_shop(SHOP, access_token=TOKEN, webhook_secret="whsec")
    sandbox.grant_customer_data(TOKEN)  # protected customer data (test_customer_data.py covers going without)
    return sandbox


def make_order(sb: ShopifySandbox, **overrides: Any):
    details: dict[str, Any] = dict(
        line_items=[{"title": "Mug", "sku": "MUG-1", "quantity": 2, "price": "12.00", "vendor": "Acme", "product_type": "Kitchen"},
                    {"title": "Pen", "sku": "PEN-1", "quantity": 1, "price": "3.50"}],
        customer={"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "tags": ["staff"], "orders_count": 3},
        tags=["staff"], discount_codes=[{"code": "INFLUENCER100", "amount": "24.00", "type": "percentage"}], total_discounts="24.00",
        shipping_address={"first_name": "Ann", "last_name": "Lee", "address1": "1 Rue", "city": "Paris", "country": "France", "country_code": "FR", "zip": "75001"},
        source_name="web", note_attributes=[{"name": "order_type", "value": "sample"}], fulfillment_orders=2,
    )
    details.update(overrides)
    return sb.create_order(SHOP, **details)


async def gql(client: TestClient, query: str, variables: dict[str, Any] | None = None, *, token: str = TOKEN,
              operation: str | None = None) -> tuple[int, Any]:
    body = {"query": query, "variables": variables or {}, "operationName": operation}
    resp = await client.post(URL, json=body, headers={"X-Shopify-Access-Token": token})
    text = await resp.text()
    return resp.status, (json.loads(text) if resp.content_type == "application/json" else text)


HOLD = """mutation Hold($id: ID!, $handle: String, $lines: [FulfillmentOrderLineItemInput!]) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: {reason: OTHER, reasonNotes: "policy: staff", handle: $handle, fulfillmentOrderLineItems: $lines}) {
    fulfillmentHold { id handle reason reasonNotes heldByRequestingApp }
    fulfillmentOrder { id status }
    remainingFulfillmentOrder { id }
    userErrors { field message code }
  }
}"""
RELEASE = """mutation Release($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) { fulfillmentOrder { id status fulfillmentHolds { id handle } } userErrors { field message code } }
}"""


async def hold(client: TestClient, fo_gid: str, handle: str = "holdfast", **kw: Any) -> dict[str, Any]:
    status, body = await gql(client, HOLD, {"id": fo_gid, "handle": handle, **kw})
    assert status == 200, body
    return body["data"]["fulfillmentOrderHold"]


# --- order reads ---------------------------------------------------------------------------------
ORDER_QUERY = """query Order($id: ID!) { order(id: $id) {
  id legacyResourceId name createdAt updatedAt cancelledAt closedAt email note tags sourceName
  displayFinancialStatus displayFulfillmentStatus currencyCode
  totalPriceSet { shopMoney { amount currencyCode } } subtotalPriceSet { shopMoney { amount } }
  totalDiscountsSet { shopMoney { amount } } currentTotalPriceSet { shopMoney { amount } }
  discountCodes customAttributes { key value }
  customer { id displayName email tags numberOfOrders }
  shippingAddress { firstName lastName city countryCodeV2 zip }
  risk { recommendation assessments { riskLevel } }
  lineItems(first: 1) { nodes { id title sku quantity vendor name originalUnitPriceSet { shopMoney { amount currencyCode } } product { productType } } pageInfo { hasNextPage endCursor } }
  fulfillmentOrders(first: 5) { nodes { id status requestStatus fulfillmentHolds { id handle reason reasonNotes heldByRequestingApp } lineItems(first: 5) { nodes { id totalQuantity } } } pageInfo { hasNextPage } }
} }"""


async def test_order_query_round_trip_over_http(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    status, body = await gql(client, ORDER_QUERY, {"id": order.gid})
    assert status == 200
    data = body["data"]["order"]
    assert data["id"] == order.gid and data["legacyResourceId"] == str(order.legacy_id) and data["name"] == "#1001"
    assert data["tags"] == ["staff"] and data["discountCodes"] == ["INFLUENCER100"]
    assert data["totalPriceSet"]["shopMoney"] == {"amount": "3.5", "currencyCode": "USD"}  # 27.50 - 24.00
    assert data["subtotalPriceSet"]["shopMoney"]["amount"] == "3.5"
    assert data["totalDiscountsSet"]["shopMoney"]["amount"] == "24.0"
    assert data["customAttributes"] == [{"key": "order_type", "value": "sample"}]
    assert data["customer"]["displayName"] == "Ann Lee" and data["customer"]["numberOfOrders"] == "3"
    assert data["shippingAddress"]["countryCodeV2"] == "FR"
    assert data["risk"] == {"recommendation": "ACCEPT", "assessments": [{"riskLevel": "LOW"}]}
    assert data["displayFinancialStatus"] == "PAID" and data["displayFulfillmentStatus"] == "UNFULFILLED"
    lines = data["lineItems"]
    assert lines["nodes"][0]["product"] == {"productType": "Kitchen"} and lines["pageInfo"]["hasNextPage"] is True
    status, body = await gql(client, "query($id: ID!, $after: String) { order(id: $id) { lineItems(first: 5, after: $after) { nodes { title } pageInfo { hasNextPage } } } }",
                             {"id": order.gid, "after": lines["pageInfo"]["endCursor"]})
    assert body["data"]["order"]["lineItems"] == {"nodes": [{"title": "Pen"}], "pageInfo": {"hasNextPage": False}}
    fos = data["fulfillmentOrders"]["nodes"]
    assert [fo["status"] for fo in fos] == ["OPEN", "OPEN"] and fos[0]["requestStatus"] == "UNSUBMITTED"
    assert [fo["lineItems"]["nodes"][0]["totalQuantity"] for fo in fos] == [2, 1]
    cost = body["extensions"]["cost"]
    assert set(cost) == {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


async def test_node_and_fulfillment_order_lookups_are_scoped_to_the_shop(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    sb.add_shop("other.myshopify.com", access_token="shpat_other")
    foreign = sb.create_order("other.myshopify.com", line_items=[{"title": "X", "quantity": 1, "price": "1"}])
    fo = order.fulfillment_orders[0]
    query = """query($a: ID!, $b: ID!, $c: ID!) {
      a: node(id: $a) { __typename id ... on Order { name } }
      b: node(id: $b) { ... on FulfillmentOrder { id status orderId } }
      c: order(id: $c) { id }
      fo: fulfillmentOrder(id: $b) { orderName }
      wrongKind: order(id: $b) { id }
    }"""
    _, body = await gql(client, query, {"a": order.gid, "b": fo.gid, "c": foreign.gid})
    data = body["data"]
    assert data["a"] == {"__typename": "Order", "id": order.gid, "name": "#1001"}
    assert data["b"] == {"id": fo.gid, "status": "OPEN", "orderId": order.gid}
    assert data["c"] is None and data["wrongKind"] is None and data["fo"] == {"orderName": "#1001"}


async def test_fulfillment_orders_appear_only_after_n_reads(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb, fulfillment_orders_visible_after=2)
    query = "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }"
    seen = []
    for _ in range(3):
        _, body = await gql(client, query, {"id": order.gid})
        seen.append(len(body["data"]["order"]["fulfillmentOrders"]["nodes"]))
    assert seen == [0, 0, 2]


async def test_lagging_fulfillment_order_cannot_be_held_yet(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb, fulfillment_orders_visible_after=1)
    first = await hold(client, order.fulfillment_orders[0].gid)  # the hold's own lookup is the first read
    assert first["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"
    assert (await hold(client, order.fulfillment_orders[0].gid))["userErrors"] == []


# --- holds ---------------------------------------------------------------------------------------
async def test_hold_is_idempotent_per_app_and_handle(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    fo = order.fulfillment_orders[0]
    first = await hold(client, fo.gid)
    assert first["userErrors"] == [] and first["fulfillmentOrder"] == {"id": fo.gid, "status": "ON_HOLD"}
    assert first["fulfillmentHold"]["handle"] == "holdfast" and first["fulfillmentHold"]["heldByRequestingApp"] is True
    assert first["remainingFulfillmentOrder"] is None
    second = await hold(client, fo.gid)
    assert second["fulfillmentHold"] is None
    assert second["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
    assert second["userErrors"][0]["field"] == ["fulfillmentHold", "handle"]
    assert [h.handle for h in fo.holds] == ["holdfast"] and fo.status == "ON_HOLD"
    assert sb.hold_calls(fo.gid) == 1
    # Another app may use the same handle on the same FO.
    sb.add_access_token(SHOP, "shpat_3pl", app="3pl")
    _, body = await gql(client, HOLD, {"id": fo.gid, "handle": "holdfast"}, token="shpat_3pl")
    assert body["data"]["fulfillmentOrderHold"]["userErrors"] == []
    assert sorted(h.app for h in fo.holds) == ["3pl", TOKEN]
    assert order.fulfillment_status() == "UNFULFILLED"  # one FO is still open
    await hold(client, order.fulfillment_orders[1].gid)
    assert order.fulfillment_status() == "ON_HOLD"


async def test_hold_errors_for_missing_or_closed_fulfillment_orders(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    missing = await hold(client, "gid://shopify/FulfillmentOrder/1")
    assert missing["userErrors"] == [{"field": ["id"], "message": "Fulfillment order does not exist.", "code": "FULFILLMENT_ORDER_NOT_FOUND"}]
    fo = order.fulfillment_orders[0]
    fo.status = "CLOSED"
    closed = await hold(client, fo.gid)
    assert closed["fulfillmentHold"] is None and closed["userErrors"][0]["field"] == ["id"]
    assert fo.holds == [] and sb.hold_calls(fo.gid) == 0
    too_long = await hold(client, order.fulfillment_orders[1].gid, handle="h" * 65)
    assert too_long["userErrors"][0]["field"] == ["fulfillmentHold", "handle"]


async def test_hold_limit_per_app(sb: ShopifySandbox, client: TestClient) -> None:
    fo = make_order(sb).fulfillment_orders[0]
    for n in range(10):
        assert (await hold(client, fo.gid, handle=f"h{n}"))["userErrors"] == []
    eleventh = await hold(client, fo.gid, handle="h10")
    assert eleventh["userErrors"][0]["code"] == "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED" and len(fo.holds) == 10


async def test_hold_on_some_line_items_splits_the_fulfillment_order(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb, fulfillment_orders=1)
    fo = order.fulfillment_orders[0]
    mug_line = fo.line_items[0]
    bad = await hold(client, fo.gid, lines=[{"id": mug_line.gid, "quantity": 5}])
    assert bad["userErrors"][0]["code"] == "INVALID_LINE_ITEM_QUANTITY"
    result = await hold(client, fo.gid, lines=[{"id": mug_line.gid, "quantity": 1}])
    assert result["userErrors"] == []
    remaining_gid = result["remainingFulfillmentOrder"]["id"]
    remaining = sb.fulfillment_orders[remaining_gid]
    assert remaining.status == "OPEN" and remaining in order.fulfillment_orders
    assert [(li.line_item.title, li.total_quantity) for li in fo.line_items] == [("Mug", 1)]
    assert sorted((li.line_item.title, li.total_quantity) for li in remaining.line_items) == [("Mug", 1), ("Pen", 1)]
    again = await hold(client, fo.gid, handle="other", lines=[{"id": mug_line.gid, "quantity": 1}])
    assert again["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_SPLITTABLE"


async def test_release_only_listed_holds_and_leave_foreign_holds(sb: ShopifySandbox, client: TestClient) -> None:
    fo = make_order(sb).fulfillment_orders[0]
    foreign = sb.add_foreign_hold(fo.gid, handle="fraud-check", app="other-app")
    mine = (await hold(client, fo.gid))["fulfillmentHold"]["id"]
    _, body = await gql(client, "query($id: ID!) { fulfillmentOrder(id: $id) { fulfillmentHolds { handle heldByRequestingApp } } }", {"id": fo.gid})
    assert body["data"]["fulfillmentOrder"]["fulfillmentHolds"] == [
        {"handle": "fraud-check", "heldByRequestingApp": False}, {"handle": "holdfast", "heldByRequestingApp": True}]
    _, body = await gql(client, RELEASE, {"id": fo.gid, "holdIds": [mine]})
    result = body["data"]["fulfillmentOrderReleaseHold"]
    assert result["userErrors"] == []
    assert result["fulfillmentOrder"]["fulfillmentHolds"] == [{"id": foreign.gid, "handle": "fraud-check"}]
    assert result["fulfillmentOrder"]["status"] == "ON_HOLD" and sb.release_calls(fo.gid) == 1
    # An id that is not on this FO (our released hold): an error, and nothing released.
    _, body = await gql(client, RELEASE, {"id": fo.gid, "holdIds": [mine, foreign.gid]})
    assert body["data"]["fulfillmentOrderReleaseHold"]["userErrors"][0]["field"] == ["holdIds"]
    assert [h.gid for h in fo.holds] == [foreign.gid] and sb.release_calls(fo.gid) == 1


async def test_release_without_hold_ids_releases_every_hold(sb: ShopifySandbox, client: TestClient) -> None:
    fo = make_order(sb).fulfillment_orders[0]
    sb.add_foreign_hold(fo.gid)
    await hold(client, fo.gid)
    _, body = await gql(client, RELEASE, {"id": fo.gid})
    assert body["data"]["fulfillmentOrderReleaseHold"]["fulfillmentOrder"] == {"id": fo.gid, "status": "OPEN", "fulfillmentHolds": []}
    assert fo.holds == [] and fo.status == "OPEN"
    _, body = await gql(client, RELEASE, {"id": "gid://shopify/FulfillmentOrder/9"})
    assert body["data"]["fulfillmentOrderReleaseHold"]["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"


# --- tags ----------------------------------------------------------------------------------------
TAGS_ADD = "mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id ... on Order { tags } } userErrors { field message } } }"
TAGS_REMOVE = "mutation($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } } }"


async def test_tags_add_and_remove(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb, tags=["Staff"])
    before = order.updated_at
    sb.now = lambda: before + timedelta(minutes=5)
    _, body = await gql(client, TAGS_ADD, {"id": order.gid, "tags": ["staff", "holdfast:pending", "a, b"]})
    assert body["data"]["tagsAdd"] == {"node": {"id": order.gid, "tags": ["Staff", "holdfast:pending", "a", "b"]}, "userErrors": []}
    assert order.updated_at == before + timedelta(minutes=5)
    _, body = await gql(client, TAGS_REMOVE, {"id": order.gid, "tags": ["HOLDFAST:PENDING", "a"]})
    assert body["data"]["tagsRemove"]["userErrors"] == [] and order.tags == ["Staff", "b"]
    _, body = await gql(client, TAGS_ADD, {"id": "gid://shopify/Order/42", "tags": ["x"]})
    assert body["data"]["tagsAdd"]["node"] is None
    assert body["data"]["tagsAdd"]["userErrors"] == [{"field": ["id"], "message": "Order does not exist"}]
    customer = order.customer
    _, body = await gql(client, TAGS_ADD, {"id": customer.gid, "tags": ["vip"]})
    assert body["data"]["tagsAdd"]["userErrors"] == [] and customer.tags == ["staff", "vip"]


# --- orders search -------------------------------------------------------------------------------
async def test_orders_search_filters_and_paginates(sb: ShopifySandbox, client: TestClient) -> None:
    t0 = datetime(2025, 5, 1, tzinfo=timezone.utc)
    a = make_order(sb, created_at=t0, tags=["staff"])
    b = make_order(sb, created_at=t0 + timedelta(hours=1), tags=["wholesale"])
    c = make_order(sb, created_at=t0 + timedelta(hours=2), tags=["staff"])
    c.cancelled_at = t0 + timedelta(hours=3)
    a.updated_at = t0 + timedelta(hours=5)
    query = "query($q: String, $after: String, $sort: OrderSortKeys, $rev: Boolean) { orders(first: 2, after: $after, query: $q, sortKey: $sort, reverse: $rev) { nodes { name } edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"

    async def names(q: str | None, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        _, body = await gql(client, query, {"q": q, **kw})
        conn = body["data"]["orders"]
        assert [e["node"]["id"] for e in conn["edges"]] == [sb.order_by_name(SHOP, n["name"]).gid for n in conn["nodes"]]
        return [n["name"] for n in conn["nodes"]], conn["pageInfo"]

    assert (await names("tag:staff"))[0] == ["#1001", "#1003"]
    assert (await names("tag:staff status:open"))[0] == ["#1001"]
    assert (await names(f"created_at:>='{(t0 + timedelta(hours=1)).isoformat()}'"))[0] == ["#1002", "#1003"]
    assert (await names("updated_at:>'2025-05-01T04:00:00Z'"))[0] == ["#1001"]
    assert (await names("-tag:staff"))[0] == ["#1002"]
    assert (await names("tag:wholesale OR status:cancelled"))[0] == ["#1002", "#1003"]
    page1, info = await names(None)
    assert page1 == ["#1001", "#1002"] and info["hasNextPage"] is True
    page2, info = await names(None, after=info["endCursor"])
    assert page2 == ["#1003"] and info["hasNextPage"] is False
    assert (await names(None, sort="UPDATED_AT", rev=True))[0] == ["#1001", "#1003"]
    _, body = await gql(client, "{ orders(query: \"tag:x\") { nodes { id } } }")
    assert body["data"] is None and body["errors"][0]["message"] == "you must provide one of first or last"
    assert b.name == "#1002"


# --- cost and throttling -------------------------------------------------------------------------
def _cost(query: str, variables: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> int:
    doc = parse(query)
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    return operation_cost(SANDBOX_SCHEMA, get_operation_ast(doc), frags, variables, data)


def test_cost_rules() -> None:
    assert _cost("{ shop { name } }") == 1
    assert _cost("{ order(id: 1) { id name tags customer { id } } }") == 2
    assert _cost("{ orders(first: 10) { nodes { id } pageInfo { hasNextPage } } }") == 2 + 10 * 1
    assert _cost("query($n: Int) { orders(first: $n) { edges { node { id lineItems(first: 5) { nodes { id } } } } } }", {"n": 3}) == 2 + 3 * (1 + 2 + 5)
    assert _cost("{ node(id: 1) { id ... on Order { customer { id } } ...F } } fragment F on FulfillmentOrder { order { customer { id } } }") == 3
    assert _cost('mutation { a: tagsAdd(id: 1, tags: ["x"]) { node { id } } b: tagsRemove(id: 1, tags: ["x"]) { node { id } } }') == 20
    actual = _cost("{ orders(first: 10) { nodes { id } } }", data={"orders": {"nodes": [{"id": "1"}, {"id": "2"}]}})
    assert actual == 4


def test_leaky_bucket_maths() -> None:
    bucket = LeakyBucket(maximum=100.0, restore_rate=10.0, available=100.0, updated_at=0.0)
    assert bucket.try_take(80, now=0.0) and bucket.available == 20
    assert not bucket.try_take(30, now=0.5) and bucket.available == 25  # refused: nothing charged
    assert bucket.try_take(30, now=1.0) and bucket.available == 0
    bucket.refund(15)
    bucket.refill(now=100.0)
    assert bucket.status() == {"maximumAvailable": 100.0, "currentlyAvailable": 100.0, "restoreRate": 10.0}


async def test_throttling_drains_refuses_and_refills(clock: FakeClock, client: TestClient, sb: ShopifySandbox) -> None:
    make_order(sb)
    heavy = "{ orders(first: 40) { nodes { id lineItems(first: 10) { nodes { id } } } } }"  # 2 + 40 * 13 = 522
    status, body = await gql(client, heavy)
    cost = body["extensions"]["cost"]
    assert status == 200 and cost["requestedQueryCost"] == 522 and cost["actualQueryCost"] == 2 + 1 * (1 + 2 + 2)
    # Only the actual cost stays charged.
    assert cost["throttleStatus"]["currentlyAvailable"] == 1000 - 7
    sb.bucket(SHOP, TOKEN).available = 400.0
    status, body = await gql(client, heavy)
    assert status == 200 and body == {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": 522, "actualQueryCost": None,
                                "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 400.0, "restoreRate": 50.0}}},
    }
    assert sb.calls[-1]["throttled"] is True
    clock.t += 2.0  # 100 points restored: still short of 522
    _, body = await gql(client, heavy)
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 500.0
    clock.t += 0.5
    _, body = await gql(client, heavy)
    assert "errors" not in body and body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 525 - 7
    clock.t += 3600  # never above the maximum
    _, body = await gql(client, "{ shop { name } }")
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 999.0
    # A second app on the same shop has its own bucket.
    sb.add_access_token(SHOP, "shpat_2")
    _, body = await gql(client, "{ shop { name } }", token="shpat_2")
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 999.0


async def test_query_over_the_single_query_limit(client: TestClient) -> None:
    _, body = await gql(client, "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }")
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED" and "data" not in body


# --- protocol errors -----------------------------------------------------------------------------
async def test_auth_and_body_errors(sb: ShopifySandbox, client: TestClient) -> None:
    resp = await client.post(URL, json={"query": "{ shop { name } }"})
    assert resp.status == 401
    assert await resp.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    status, _ = await gql(client, "{ shop { name } }", token="shpat_wrong")
    assert status == 401
    resp = await client.post(f"/{SHOP}/admin/api/latest/graphql.json", json={"query": "{ shop { name } }"}, headers={"X-Shopify-Access-Token": TOKEN})
    assert resp.status == 404
    resp = await client.post(URL, data=b"{not json", headers={"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"})
    assert resp.status == 400 and await resp.json() == {"errors": {"query": "Required parameter missing or invalid"}}
    resp = await client.post(URL, data=b"{ shop { myshopifyDomain } }", headers={"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/graphql"})
    assert (await resp.json())["data"] == {"shop": {"myshopifyDomain": SHOP}}
    assert resp.headers["X-Shopify-API-Version"] == API_VERSION
    assert [c["status"] for c in sb.calls] == [401, 401, 404, 400, 200]


async def test_validation_errors_have_shopify_shape(client: TestClient) -> None:
    status, body = await gql(client, "{ order(id: \"x\") { id nonsense } }")
    assert status == 200 and "data" not in body
    error = body["errors"][0]
    assert "nonsense" in error["message"] and error["locations"] == [{"line": 1, "column": 23}]
    assert error["extensions"]["code"] == "undefinedField"
    _, body = await gql(client, "{ order { id } }")
    assert body["errors"][0]["extensions"]["code"] == "missingRequiredArguments"
    _, body = await gql(client, "{ order(id: ")
    assert body["errors"][0]["message"].startswith("Syntax Error")


# --- faults --------------------------------------------------------------------------------------
async def test_5xx_fault_hits_only_matching_root_field_and_is_consumed(sb: ShopifySandbox, client: TestClient) -> None:
    fo = make_order(sb).fulfillment_orders[0]
    sb.faults.add(kind="5xx", root_field="fulfillmentOrderHold", times=2, status=503)
    status, _ = await gql(client, "{ shop { name } }")
    assert status == 200
    resp = await client.post(URL, json={"query": HOLD, "variables": {"id": fo.gid, "handle": "h"}}, headers={"X-Shopify-Access-Token": TOKEN})
    assert resp.status == 503 and resp.content_type == "text/html" and "Service Unavailable" in await resp.text()
    status, _ = await gql(client, HOLD, {"id": fo.gid, "handle": "h"})
    assert status == 503 and fo.holds == [] and sb.calls[-1]["fault"] == "5xx"
    assert (await hold(client, fo.gid, handle="h"))["userErrors"] == []
    assert sb.hold_calls(fo.gid) == 1 and sb.faults.pending == []


async def test_fault_after_execute_applies_the_write_but_fails_the_response(sb: ShopifySandbox, client: TestClient) -> None:
    fo = make_order(sb).fulfillment_orders[0]
    sb.faults.add(kind="5xx", root_field="fulfillmentOrderHold", after_execute=True)
    status, _ = await gql(client, HOLD, {"id": fo.gid, "handle": "h"})
    assert status == 502 and [h.handle for h in fo.holds] == ["h"]
    retry = await hold(client, fo.gid, handle="h")  # the client's retry learns the hold exists
    assert retry["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"


async def test_timeout_fault_outlasts_the_client(sb: ShopifySandbox, client: TestClient) -> None:
    sb.faults.add(kind="timeout", delay=1.0)
    with pytest.raises(asyncio.TimeoutError):
        await client.post(URL, json={"query": "{ shop { name } }"}, headers={"X-Shopify-Access-Token": TOKEN},
                          timeout=aiohttp.ClientTimeout(total=0.1))
    sb.faults.add(kind="timeout", delay=0.01)
    status, body = await gql(client, "{ shop { name } }")
    assert status == 504 and "Gateway Timeout" in body
    status, _ = await gql(client, "{ shop { name } }")
    assert status == 200


async def test_throttled_fault_and_clear(sb: ShopifySandbox, client: TestClient) -> None:
    sb.faults.add(kind="throttled", times=5)
    _, body = await gql(client, "{ shop { name } }")
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1000.0  # charged nothing
    sb.faults.clear()
    _, body = await gql(client, "{ shop { name } }")
    assert body["data"] == {"shop": {"name": "demo"}}
    with pytest.raises(ValueError):
        sb.faults.add(kind="boom")  # type: ignore[arg-type]


async def test_calls_are_recorded(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb)
    await gql(client, "query Fetch($id: ID!) { order(id: $id) { id } shop { id } }", {"id": order.gid}, operation="Fetch")
    assert sb.calls[-1] == {"shop": SHOP, "app": TOKEN, "version": API_VERSION, "operation": "Fetch", "root_fields": ["order", "shop"],
                            "variables": {"id": order.gid}, "status": 200, "throttled": False, "fault": None, "cost": 2,
                            "actual_cost": 2}


# --- later operations ----------------------------------------------------------------------------
async def test_order_update_overwrites(sb: ShopifySandbox, client: TestClient) -> None:
    order = make_order(sb, note="old")
    query = """mutation($input: OrderInput!) { orderUpdate(input: $input) { order { note tags customAttributes { key value } } userErrors { field message } } }"""
    _, body = await gql(client, query, {"input": {"id": order.gid, "note": "new", "tags": ["x", "X", "y"], "customAttributes": [{"key": "k", "value": "v"}]}})
    assert body["data"]["orderUpdate"] == {"order": {"note": "new", "tags": ["x", "y"], "customAttributes": [{"key": "k", "value": "v"}]}, "userErrors": []}
    _, body = await gql(client, query, {"input": {"id": "gid://shopify/Order/1"}})
    assert body["data"]["orderUpdate"]["userErrors"] == [{"field": ["id"], "message": "Order does not exist"}]


async def test_order_cancel_runs_as_a_job(sb: ShopifySandbox, client: TestClient) -> None:
    sb.job_reads_until_done = 2
    order = make_order(sb)
    cancel = """mutation($id: ID!) { orderCancel(orderId: $id, reason: STAFF, refund: true, restock: true, notifyCustomer: false, staffNote: "rejected")
      { job { id done } orderCancelUserErrors { field message code } } }"""
    _, body = await gql(client, cancel, {"id": order.gid})
    job = body["data"]["orderCancel"]["job"]
    assert job["done"] is False and body["data"]["orderCancel"]["orderCancelUserErrors"] == []
    _, again = await gql(client, cancel, {"id": order.gid})
    assert again["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"
    poll = "query($id: ID!) { job(id: $id) { done query { order(id: \"%s\") { cancelledAt displayFinancialStatus } } } }" % order.gid
    _, body = await gql(client, poll, {"id": job["id"]})
    assert body["data"]["job"]["done"] is False and order.cancelled_at is None
    _, body = await gql(client, poll, {"id": job["id"]})
    assert body["data"]["job"]["done"] is True
    assert body["data"]["job"]["query"]["order"]["displayFinancialStatus"] == "REFUNDED"
    assert order.cancel_reason == "STAFF" and all(fo.status == "CLOSED" for fo in order.fulfillment_orders)
    _, body = await gql(client, cancel, {"id": "gid://shopify/Order/3"})
    assert body["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"] == "NOT_FOUND"


async def test_draft_order_create_complete_delete(sb: ShopifySandbox, client: TestClient) -> None:
    product = sb.add_product(SHOP, "Mug", vendor="Acme", variants=[{"sku": "MUG-1", "price": "12.00"}])
    variant = product.variants[0]
    create = """mutation($input: DraftOrderInput!) { draftOrderCreate(input: $input) {
      draftOrder { id name status tags note2 totalPriceSet { shopMoney { amount } } lineItems(first: 5) { nodes { title custom quantity sku } } }
      userErrors { field message } } }"""
    _, body = await gql(client, create, {"input": {
        "email": "bob@example.com", "note": "event", "tags": ["internal"], "customAttributes": [{"key": "department", "value": "Marketing"}],
        "lineItems": [{"variantId": variant.gid, "quantity": 2},
                      {"title": "Banner", "quantity": 1, "originalUnitPriceWithCurrency": {"amount": "5.00", "currencyCode": "USD"}}],
        "appliedDiscount": {"value": 100.0, "valueType": "PERCENTAGE", "title": "internal"},
    }})
    draft = body["data"]["draftOrderCreate"]["draftOrder"]
    assert draft["name"] == "#D1" and draft["status"] == "OPEN" and draft["note2"] == "event"
    assert draft["totalPriceSet"]["shopMoney"]["amount"] == "0.0"
    assert draft["lineItems"]["nodes"] == [{"title": "Mug", "custom": False, "quantity": 2, "sku": "MUG-1"},
                                           {"title": "Banner", "custom": True, "quantity": 1, "sku": None}]
    complete = "mutation($id: ID!) { draftOrderComplete(id: $id) { draftOrder { status order { id name tags customAttributes { key value } } } userErrors { message } } }"
    _, body = await gql(client, complete, {"id": draft["id"]})
    completed = body["data"]["draftOrderComplete"]["draftOrder"]
    assert completed["status"] == "COMPLETED" and completed["order"]["tags"] == ["internal"]
    assert completed["order"]["customAttributes"] == [{"key": "department", "value": "Marketing"}]
    assert sb.orders[completed["order"]["id"]].fulfillment_orders[0].status == "OPEN"
    _, body = await gql(client, complete, {"id": draft["id"]})
    assert body["data"]["draftOrderComplete"]["userErrors"]
    delete = "mutation($id: ID!) { draftOrderDelete(input: {id: $id}) { deletedId userErrors { field message } } }"
    _, body = await gql(client, delete, {"id": draft["id"]})
    assert body["data"]["draftOrderDelete"]["deletedId"] is None
    _, body = await gql(client, create, {"input": {"lineItems": [{"title": "X", "quantity": 1}]}})
    other = body["data"]["draftOrderCreate"]["draftOrder"]["id"]
    _, body = await gql(client, delete, {"id": other})
    assert body["data"]["draftOrderDelete"] == {"deletedId": other, "userErrors": []} and other not in sb.draft_orders


async def test_product_variants_search(sb: ShopifySandbox, client: TestClient) -> None:
    sb.add_product(SHOP, "Mug", vendor="Acme", variants=[{"title": "Red", "sku": "MUG-R", "price": "12"}, {"title": "Blue", "sku": "MUG-B", "price": "13"}])
    sb.add_product(SHOP, "Pen", variants=[{"sku": "PEN-1", "price": "2.5"}])
    query = "query($q: String) { productVariants(first: 10, query: $q) { nodes { sku price displayName product { title vendor } } } }"
    _, body = await gql(client, query, {"q": "sku:MUG-B"})
    assert body["data"]["productVariants"]["nodes"] == [{"sku": "MUG-B", "price": "13.00", "displayName": "Mug - Blue", "product": {"title": "Mug", "vendor": "Acme"}}]
    _, body = await gql(client, query, {"q": "vendor:acme"})
    assert [n["sku"] for n in body["data"]["productVariants"]["nodes"]] == ["MUG-R", "MUG-B"]


async def test_webhook_subscriptions(sb: ShopifySandbox, client: TestClient) -> None:
    create = """mutation($topic: WebhookSubscriptionTopic!, $url: URL!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: {callbackUrl: $url, format: JSON}) {
      webhookSubscription { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } userErrors { field message } } }"""
    _, body = await gql(client, create, {"topic": "ORDERS_CREATE", "url": "https://bot.example/shopify/webhooks"})
    created = body["data"]["webhookSubscriptionCreate"]
    assert created["userErrors"] == [] and created["webhookSubscription"]["endpoint"] == {"__typename": "WebhookHttpEndpoint", "callbackUrl": "https://bot.example/shopify/webhooks"}
    _, body = await gql(client, create, {"topic": "ORDERS_CREATE", "url": "https://bot.example/shopify/webhooks"})
    assert body["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"] == "Address for this topic has already been taken"
    _, body = await gql(client, "{ webhookSubscriptions(first: 10, topics: [ORDERS_CREATE, APP_UNINSTALLED]) { nodes { topic } } }")
    assert body["data"]["webhookSubscriptions"]["nodes"] == [{"topic": "ORDERS_CREATE"}]


# --- webhooks ------------------------------------------------------------------------------------
def _vectors() -> list[dict[str, Any]]:
    if not VECTORS.exists():
        return []
    return json.loads(VECTORS.read_text())["shopify"]


@pytest.mark.parametrize("vector", _vectors() or [pytest.param(None, marks=pytest.mark.skip(reason=f"{VECTORS} absent"))],
                         ids=lambda v: v["name"] if v else "absent")
def test_signature_matches_shopify_vectors(vector: dict[str, Any]) -> None:
    assert sign_shopify_webhook(vector["secret"], vector["body"].encode()) == vector["expected_hmac_base64"]
    assert sign_shopify_webhook(vector["secret"] + "x", vector["body"].encode()) != vector["expected_hmac_base64"]


# Webhook headers, deliveries, retries and body shapes: test_webhook_delivery.py, test_webhook_shapes.py.


def test_every_bot_document_runs_against_the_sandbox() -> None:
    documents = pytest.importorskip("bot.shopify.documents", reason="the bot's GraphQL documents are not there yet")
    for name, document in documents.ALL.items():
        assert validate(SANDBOX_SCHEMA, parse(document)) == [], name
