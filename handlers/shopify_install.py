"""GET /shopify/install and GET /shopify/callback: the authorization code grant (bot/features/install).

Both answer a plain page: where the merchant is, and what happens next; a refusal is a 4xx with its reason and
changes nothing.
"""

from __future__ import annotations

import html
import logging

from aiohttp import web

from bot.features.install import flows, service
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def page(title: str, lines: list[str], status: int = 200) -> web.Response:
    """A small HTML page (no script, no outside resources)."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    text = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:3em auto'><h1>{html.escape(title)}</h1>"
            f"{body}</body></html>")
    return web.Response(text=text, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def register(app: web.Application, rt: Runtime) -> None:
    """Mount the two routes (they answer 404 pages until SHOPIFY_CLIENT_ID, …_SECRET and PUBLIC_URL are set)."""
    settings = rt.settings

    def not_configured() -> web.Response | None:
        missing = [name for name, value in (("SHOPIFY_CLIENT_ID", settings.shopify_client_id),
                                            ("SHOPIFY_CLIENT_SECRET", settings.shopify_client_secret.get_secret_value()),
                                            ("HOLDFAST_PUBLIC_URL", settings.public_url)) if not value]
        if not missing:
            return None
        return page("Install is not set up", [f"The operator has not set {', '.join(missing)}."], 404)

    async def install(request: web.Request) -> web.Response:
        if (refusal := not_configured()) is not None:
            return refusal
        shop = service.valid_shop(request.query.get("shop"))
        if shop is None:
            return page("Not a Shopify store", [("Open this link with ?shop=your-store.myshopify.com (letters, "
                                                 "digits and hyphens, then .myshopify.com).")], 400)
        start = service.start(settings, shop=shop, now=rt.now())
        response = web.HTTPFound(start.authorize_url)
        # Lax: the cookie comes back on Shopify's top-level redirect to the callback, not on cross-site posts.
        response.set_cookie(service.COOKIE, start.cookie, max_age=service.STATE_TTL_S, httponly=True,
                            secure=settings.public_url.startswith("https://"), samesite="Lax", path="/shopify")
        raise response  # aiohttp's redirects are raised

    async def callback(request: web.Request) -> web.Response:
        if (refusal := not_configured()) is not None:
            return refusal
        query = dict(request.query)
        refusal = service.check_callback(settings, query, request.cookies.get(service.COOKIE), now=rt.now())
        if refusal is not None:
            status, why = refusal
            log.warning("install callback refused: %s", why)
            return page("Install refused", [why[0].upper() + why[1:] + "."], status)
        shop = service.valid_shop(query["shop"]) or ""
        try:
            done = await flows.complete(rt, shop=shop, code=query["code"])
        except flows.InstallFailed as exc:
            log.warning("install of %s failed: %s", shop, exc)
            return page("Install failed", [str(exc)], exc.status)
        lines = [f"holdfast is {'installed again' if done.reinstalled else 'installed'} on {shop}.",
                 ("Orders are now checked against the policies; a flagged order is held and its approvers are "
                  "asked in Slack. Webhooks come from the app's configuration (shopify.app.toml), so there is "
                  "nothing to set up in the Shopify admin."),
                 "You can close this page."]
        if done.missing_scopes:
            lines.insert(1, f"Shopify did not grant {', '.join(done.missing_scopes)}: some steps will fail until "
                            "the app is installed again with them.")
        response = page("holdfast is installed", lines)
        response.del_cookie(service.COOKIE, path="/shopify")
        return response

    app.router.add_get("/shopify/install", install)
    app.router.add_get("/shopify/callback", callback)
