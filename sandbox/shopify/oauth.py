"""Shopify's OAuth endpoints, under the shop's own prefix like the GraphQL route:

- GET /{shop}/admin/oauth/authorize: the authorization code grant's first leg; the merchant approves at once and
  the sandbox redirects (302) to the app's redirect URI with a signed code
  (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant).
- POST /{shop}/admin/oauth/access_token: the client credentials grant, the code exchange and the refresh of an
  expiring offline token; every request is recorded in `sb.token_requests`.
The decisions (codes, rotation, expiry) are oauth_store.py's.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import shopify
from aiohttp import web

if TYPE_CHECKING:
    from .control import ShopifySandbox

AUTHORIZE_ROUTE = "/{shop}/admin/oauth/authorize"
ACCESS_TOKEN_ROUTE = "/{shop}/admin/oauth/access_token"

# Error bodies of the token endpoint. Client credentials: "Client credentials cannot be performed on this shop" for a
# shop outside the app's organization, and an app not installed is refused too
# (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant,
# https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets).
SHOP_NOT_PERMITTED = "Client credentials cannot be performed on this shop."
APP_NOT_INSTALLED = "The application is not installed on this shop."
# invalid_client's description is RFC 6749 section 5.2's wording (Shopify's own is not documented).
INVALID_CLIENT = ("Client authentication failed due to unknown client, no client authentication included, "
                  "or unsupported authentication method.")
CODE_NOT_FOUND = "The authorization code was not found or was already used"
# A refresh token retired, expired or unknown
# (https://shopify.dev/changelog/more-resilient-refreshes-for-expiring-offline-access-tokens).
TOKEN_REVOKED = "Token has been expired or revoked."
UNSUPPORTED_GRANT = "The authorization grant type is not supported by the authorization server."


def callback_hmac(params: dict[str, str], secret: str) -> str:
    """The `hmac` of a redirect to the app: ShopifyAPI's own rule (shopify.Session.calculate_hmac: hex HMAC-SHA256
    with the client secret over the other parameters, sorted, `k=v` joined by `&`), so the library verifies it."""
    signer: Any = type("_Signer", (shopify.Session,), {"secret": secret})
    return signer.calculate_hmac(params)


def admin_host(domain: str) -> str:
    """The `host` parameter: base64url of "admin.shopify.com/store/{shop name}", unpadded
    (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant)."""
    name = domain.split(".", 1)[0]
    return base64.urlsafe_b64encode(f"admin.shopify.com/store/{name}".encode()).rstrip(b"=").decode()


def _page(message: str, status: int = 400) -> web.Response:
    """The HTML error page Shopify shows the merchant instead of the approval screen."""
    html = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shopify</title></head>"
            f"<body><h1>{message}</h1></body></html>\n")
    return web.Response(status=status, text=html, content_type="text/html")


def _not_found() -> web.Response:
    return _page("404 Not Found", 404)


def _authorize(sb: ShopifySandbox, domain: str, query: Any) -> web.Response:
    """The merchant's approval, given at once: install with the requested scopes and redirect with a code."""
    if domain not in sb.shops:
        return _not_found()
    client_id = query.get("client_id", "")
    app = sb.oauth.apps.get(client_id)
    if app is None:
        return _page(f"Oauth error invalid_request: Unknown client_id {client_id!r}")  # the sandbox's wording
    redirect_uri = query.get("redirect_uri", "")
    if redirect_uri not in app.redirect_urls:
        # The redirect URI must be one of the app's allowed redirection URLs, exactly.
        return _page("Oauth error invalid_request: The redirect_uri is not whitelisted")
    if "per-user" in query.getall("grant_options[]", []):
        # Online (per-user) tokens are not modelled: refused rather than silently handed out as offline ones.
        return _page("Oauth error invalid_request: the sandbox issues offline tokens only (no grant_options[])")
    scope = query.get("scope") or ""
    scopes = [s.strip() for s in scope.split(",") if s.strip()] or None  # none asked: the app's configured ones
    sb.oauth.install(domain, app, scopes, merge=True)
    params = {"code": sb.oauth.issue_code(domain, app), "host": admin_host(domain), "shop": domain,
              "timestamp": str(int(sb.now().timestamp()))}
    if "state" in query:
        params["state"] = query["state"]  # echoed for the app's CSRF check
    params["hmac"] = callback_hmac(params, app.client_secret)
    location = redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(sorted(params.items()))
    return web.Response(status=302, headers={"Location": location})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _params(request: web.Request) -> dict[str, str]:
    """The request's parameters: form-encoded as documented, JSON as Shopify's libraries send, or in the query."""
    params = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update({k: _text(v) for k, v in body.items() if v is not None})
    else:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _error(error: str, description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error": error, "error_description": description}


def _grant(sb: ShopifySandbox, domain: str, grant: str, params: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
    """(status, JSON body) of one token request; None body: the shop does not exist (404 page)."""
    if domain not in sb.shops:
        return 404, None
    app = sb.oauth.authenticate(params.get("client_id", ""), params.get("client_secret", ""))
    if app is None:
        return _error("invalid_client", INVALID_CLIENT)
    if grant == "client_credentials":
        # "Client credentials is only available for apps developed by your own organization and installed in
        # stores that you own" (client-credentials-grant page above).
        if domain not in app.organization_shops:
            return _error("shop_not_permitted", SHOP_NOT_PERMITTED)
        if not sb.oauth.installed(domain, app.client_id):
            return _error("app_not_installed", APP_NOT_INSTALLED)
        return 200, sb.oauth.client_credentials(domain, app)
    if grant == "authorization_code":
        if not sb.oauth.redeem_code(domain, app, params.get("code", "")):
            return _error("invalid_request", CODE_NOT_FOUND)
        # expiring=1 asks for an expiring offline token and its refresh token
        # (https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh).
        expiring = params.get("expiring", "").lower() in ("1", "true")
        return 200, sb.oauth.offline(domain, app, expiring=expiring)
    if grant == "refresh_token":
        pair = sb.oauth.use_refresh(domain, app, params.get("refresh_token", ""))
        return (200, pair) if pair is not None else _error("invalid_grant", TOKEN_REVOKED)
    return _error("unsupported_grant_type", UNSUPPORTED_GRANT)


async def _access_token(sb: ShopifySandbox, request: web.Request) -> web.Response:
    domain = request.match_info["shop"]
    params = await _params(request)
    # The code exchange predates grant_type on Shopify: a code alone means authorization_code.
    grant = params.get("grant_type") or ("authorization_code" if "code" in params else "")
    entry: dict[str, Any] = {"shop": domain, "grant_type": grant or None, "client_id": params.get("client_id"),
                             "status": None, "error": None}
    sb.oauth.requests.append(entry)
    status, body = _grant(sb, domain, grant, params)
    entry["status"] = status
    if body is None:
        return _not_found()
    entry["error"] = body.get("error") if status != 200 else None
    return web.json_response(body, status=status)


def oauth_routes(sb: ShopifySandbox) -> list[web.RouteDef]:
    """The OAuth routes, bound to `sb` (server.make_app mounts them)."""

    async def authorize(request: web.Request) -> web.Response:
        return _authorize(sb, request.match_info["shop"], request.query)

    async def access_token(request: web.Request) -> web.Response:
        return await _access_token(sb, request)

    return [web.get(AUTHORIZE_ROUTE, authorize, allow_head=False), web.post(ACCESS_TOKEN_ROUTE, access_token)]
