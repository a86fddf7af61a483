"""The HTTP face of the sandbox: POST /{shop}/admin/api/{version}/graphql.json, as Shopify answers it."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
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

from .access import Guard, Need, needs
from .context import Ctx
from .cost import SINGLE_QUERY_MAX, LeakyBucket, operation_cost
from .faults import Fault, error_page
from .oauth import oauth_routes
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


@dataclass
class Prepared:
    """A query text parsed and validated once: its document (None if it does not parse), errors, access needs."""

    document: DocumentNode | None
    errors: list[dict[str, Any]]
    needs: list[Need] = field(default_factory=list)
    guards: dict[frozenset[str], Guard] = field(default_factory=dict)  # granted scopes -> denials

    def guard(self, granted: frozenset[str]) -> Guard:
        if granted not in self.guards:
            self.guards[granted] = Guard.of(self.needs, granted)
        return self.guards[granted]


def _prepared(sb: ShopifySandbox, query: str) -> Prepared:
    """The query's Prepared, remembered per query text.

    Validating against the full Admin schema costs milliseconds, and a client sends the same few documents
    again and again (Shopify caches them too); without this the sandbox, not the bot, bounds load tests.
    """
    cache = sb.prepared
    hit = cache.get(query)
    if hit is None:
        try:
            document = parse(query)
            errors = _validation_errors(sb, document)
            hit = Prepared(document, errors, [] if errors else needs(sb.schema, document))
        except GraphQLError as exc:
            hit = Prepared(None, [exc.formatted])
        if len(cache) >= _PREPARED_MAX:
            cache.pop(next(iter(cache)))
        cache[query] = hit
    return hit


_DATED = re.compile(r"\d{4}-\d{2}")


def served_version(sb: ShopifySandbox, requested: str) -> str | None:
    """The version that answers a request for `requested`, or None (404).

    "Shopify falls forward when your selected version becomes inaccessible": a retired stable version is served
    by the oldest supported one, and the X-Shopify-API-Version header says which
    (https://shopify.dev/docs/api/usage/versioning). Shopify documents nothing for a handle that never was a
    version (a typo, a future quarter); the sandbox answers those 404, the harsher reading.
    """
    if requested in sb.api_versions:
        return requested
    oldest = min(sb.api_versions)
    return oldest if _DATED.fullmatch(requested) and requested < oldest else None


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
    call["version"] = served_version(sb, request.match_info["version"])
    response = await _serve(request, sb, call)
    call["status"] = response.status
    if call["version"] is not None and response.status != 404:
        # Every answer of a served version says which version answered: 200s, and 401/400 alike.
        response.headers["X-Shopify-API-Version"] = call["version"]
    return response


async def _serve(request: web.Request, sb: ShopifySandbox, call: dict[str, Any]) -> web.Response:
    """Auth, parse, validate, cost, faults, throttle, execute."""
    shop = sb.shops.get(request.match_info["shop"])
    if call["version"] is None or shop is None:
        return _json({"errors": "Not Found"}, 404)
    # An expired token is refused like an unknown one (and forgotten)
    # (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens).
    app = sb.oauth.app_for_token(shop.domain, request.headers.get("X-Shopify-Access-Token", ""))
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
    prepared = _prepared(sb, query)
    document, errors = prepared.document, prepared.errors
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
    limit = int(min(SINGLE_QUERY_MAX, bucket.maximum))  # a bucket overridden smaller than 1,000 caps it too
    if requested > limit:
        return _json({"errors": [{
            "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({limit}).",
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": limit},
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
    guard = prepared.guard(sb.granted(shop.domain, app))
    result = execute(sb.schema, document, variable_values=variables, operation_name=payload.get("operationName"),
                     context_value=ctx, field_resolver=default_resolver,
                     middleware=[guard] if guard.denied else None)
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
    """An aiohttp application serving the sandbox's Admin GraphQL endpoint and its OAuth endpoints (oauth.py)."""
    app = web.Application()
    app[SANDBOX_KEY] = sb
    app.router.add_post(ROUTE, graphql_handler)
    app.add_routes(oauth_routes(sb))
    return app
