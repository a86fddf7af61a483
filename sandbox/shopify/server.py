"""The HTTP face of the sandbox: POST /{shop}/admin/api/{version}/graphql.json, as Shopify answers it."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import (
    FieldsOnCorrectTypeRule,
    KnownArgumentNamesRule,
    KnownTypeNamesRule,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    ProvidedRequiredArgumentsRule,
    ScalarLeafsRule,
    ValuesOfCorrectTypeRule,
    VariablesInAllowedPositionRule,
)

from .cost import LeakyBucket, operation_cost
from .faults import Fault, error_page
from .context import Ctx
from .resolvers import default_resolver

if TYPE_CHECKING:
    from .control import ShopifySandbox

SANDBOX_KEY: web.AppKey[ShopifySandbox] = web.AppKey("shopify_sandbox")
ROUTE = "/{shop}/admin/api/{version}/graphql.json"
THROTTLE_DOCS = "https://shopify.dev/api/usage/rate-limits"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"

# graphql-ruby's error codes (what Shopify reports) for graphql-core's validation rules.
_RULE_CODES = {
    FieldsOnCorrectTypeRule: "undefinedField",
    KnownArgumentNamesRule: "argumentNotAccepted",
    ProvidedRequiredArgumentsRule: "missingRequiredArguments",
    KnownTypeNamesRule: "undefinedType",
    ValuesOfCorrectTypeRule: "argumentLiteralsIncompatible",
    VariablesInAllowedPositionRule: "variableMismatch",
    NoUndefinedVariablesRule: "variableNotDefined",
    NoUnusedVariablesRule: "variableNotUsed",
    ScalarLeafsRule: "selectionMismatch",
}


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _validation_errors(sb: ShopifySandbox, document: DocumentNode) -> list[dict[str, Any]]:
    """Validation errors with an `extensions.code` naming the rule broken."""
    if not validate(sb.schema, document):
        return []
    out = []
    for rule in specified_rules:
        for error in validate(sb.schema, document, [rule]):
            formatted = dict(error.formatted)
            code = _RULE_CODES.get(rule, rule.__name__.removesuffix("Rule")[:1].lower() + rule.__name__.removesuffix("Rule")[1:])
            formatted["extensions"] = {"code": code}
            out.append(formatted)
    return out


_PREPARED_MAX = 512


def _prepared(sb: ShopifySandbox, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
    """(document, validation errors) or (None, [parse error]), remembered per query text.

    Validating against the full Admin schema costs milliseconds, and a client sends the same few documents
    again and again (Shopify caches them too); without this the sandbox, not the bot, bounds load tests.
    """
    cache = sb.prepared
    hit = cache.get(query)
    if hit is None:
        try:
            document = parse(query)
            hit = (document, _validation_errors(sb, document))
        except GraphQLError as exc:
            hit = (None, [exc.formatted])
        if len(cache) >= _PREPARED_MAX:
            cache.pop(next(iter(cache)))
        cache[query] = hit
    return hit


def _root_fields(operation: OperationDefinitionNode | None) -> list[str]:
    if operation is None:
        return []
    return [s.name.value for s in operation.selection_set.selections if hasattr(s, "name") and s.name]


async def _fail(fault: Fault, requested: int, bucket: LeakyBucket) -> web.Response:
    """The response a fault turns this request into."""
    if fault.kind == "timeout":
        await asyncio.sleep(fault.delay)
        return web.Response(status=504, text=error_page(504), content_type="text/html")
    if fault.kind == "5xx":
        return web.Response(status=fault.status, text=error_page(fault.status), content_type="text/html")
    return _json(_throttled(requested, bucket))


def _throttled(requested: int, bucket: LeakyBucket) -> dict[str, Any]:
    return {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS}}],
        "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": bucket.status()}},
    }


async def graphql_handler(request: web.Request) -> web.Response:
    """Serve one Admin GraphQL request and record it in `sb.calls`."""
    sb = request.app[SANDBOX_KEY]
    call: dict[str, Any] = {"shop": request.match_info["shop"], "app": None, "operation": None, "root_fields": [],
                            "variables": {}, "status": None, "throttled": False, "fault": None, "cost": None}
    sb.calls.append(call)
    response = await _serve(request, sb, call)
    call["status"] = response.status
    if response.status != 404:
        response.headers["X-Shopify-API-Version"] = request.match_info["version"]
    return response


async def _serve(request: web.Request, sb: ShopifySandbox, call: dict[str, Any]) -> web.Response:
    """Auth, parse, validate, cost, faults, throttle, execute."""
    shop = sb.shops.get(request.match_info["shop"])
    if request.match_info["version"] not in sb.api_versions or shop is None:
        return _json({"errors": "Not Found"}, 404)
    app = shop.tokens.get(request.headers.get("X-Shopify-Access-Token", ""))
    if app is None:
        return _json({"errors": INVALID_TOKEN}, 401)
    call["app"] = app
    try:
        if request.content_type == "application/graphql":
            payload: Any = {"query": await request.text()}
        else:
            payload = json.loads(await request.read())
        query, variables = payload["query"], payload.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
    call.update(operation=payload.get("operationName"), variables=variables)
    document, errors = _prepared(sb, query)
    if document is None:
        return _json({"errors": errors})
    operation = get_operation_ast(document, payload.get("operationName"))
    call["root_fields"] = _root_fields(operation)
    if call["operation"] is None and operation is not None and operation.name:
        call["operation"] = operation.name.value
    if not errors and operation is None:
        name = payload.get("operationName")
        errors = [{"message": f'No operation named "{name}"' if name else "An operation name is required",
                   "extensions": {"code": "operationNotFound"}}]
    if errors:
        return _json({"errors": errors})
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    requested = operation_cost(sb.schema, operation, fragments, variables)
    call["cost"] = requested
    bucket = sb.bucket(shop.domain, app)
    if requested > bucket.maximum:
        return _json({"errors": [{
            "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({int(bucket.maximum)}).",
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": int(bucket.maximum)},
        }]})
    fault = sb.faults.take(call["root_fields"])
    if fault is not None:
        call.update(fault=fault.kind, throttled=fault.kind == "throttled")
        if not fault.after_execute:
            bucket.refill(sb.clock())
            return await _fail(fault, requested, bucket)
    if not bucket.try_take(requested, sb.clock()):
        call["throttled"] = True
        return _json(_throttled(requested, bucket))
    ctx = Ctx(sb, shop, app, sb.now())
    result = execute(sb.schema, document, variable_values=variables, operation_name=payload.get("operationName"),
                     context_value=ctx, field_resolver=default_resolver)
    assert not hasattr(result, "__await__"), "sandbox resolvers are synchronous"
    actual = min(requested, operation_cost(sb.schema, operation, fragments, variables, result.data or {}))
    call["actual_cost"] = actual  # what the bucket really kept (benchmarks compare against it)
    bucket.refund(requested - actual)
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    body["data"] = result.data
    body["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                                   "throttleStatus": bucket.status()}}
    if ctx.search:
        body["extensions"]["search"] = ctx.search
    if fault is not None:
        return await _fail(fault, requested, bucket)
    return _json(body)


def make_app(sb: ShopifySandbox) -> web.Application:
    """An aiohttp application serving the sandbox's Admin GraphQL endpoint."""
    app = web.Application()
    app[SANDBOX_KEY] = sb
    app.router.add_post(ROUTE, graphql_handler)
    return app
