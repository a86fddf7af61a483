"""An app's life outside the API: `shopify app deploy` of its shopify.app.toml, and the merchant uninstalling it."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from .oauth_store import OAuthApp, OAuthStore
from .rest import rest_time

if TYPE_CHECKING:
    from .control import ShopifySandbox

UNINSTALLED = "app/uninstalled"


def _toml_text(path_or_text: str | os.PathLike[str]) -> str:
    """A path's content, or the text itself (anything with a newline, or no such file, is TOML text)."""
    if isinstance(path_or_text, os.PathLike):
        return Path(path_or_text).read_text()
    if "\n" not in path_or_text and Path(path_or_text).is_file():
        return Path(path_or_text).read_text()
    return path_or_text


def resolve_uri(uri: str, application_url: str) -> str:
    """A subscription `uri` as Shopify CLI sends it: a relative one ("/webhooks") is appended to application_url,
    trailing slashes dropped (https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration; the CLI's
    prependApplicationUrl and removeTrailingSlash, github.com/Shopify/cli packages/app)."""
    uri = uri.rstrip("/") or uri
    return application_url.rstrip("/") + uri if uri.startswith("/") else uri


def deploy(sb: ShopifySandbox, path_or_text: str | os.PathLike[str], *, client_secret: str,
           application_url: str) -> OAuthApp:
    """`shopify app deploy`: register (or update) the app of a shopify.app.toml and replace its app-scoped
    subscriptions with the file's `[[webhooks.subscriptions]]` (topics and compliance_topics alike)
    (https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration). Grants already given on shops stay: a
    merchant approves new scopes on their next authorization."""
    config = tomllib.loads(_toml_text(path_or_text))
    client_id = str(config["client_id"])
    scopes_text = config.get("access_scopes", {}).get("scopes")
    scopes = None if scopes_text is None else [s.strip() for s in str(scopes_text).split(",") if s.strip()]
    redirect_urls = list(config.get("auth", {}).get("redirect_urls", []))
    app = sb.oauth_apps.get(client_id)
    if app is None:
        app = sb.register_app(client_id, client_secret, redirect_urls=redirect_urls, scopes=scopes)
    else:  # the name stays: tokens, grants and subscriptions are keyed by it
        app.client_secret, app.redirect_urls = client_secret, redirect_urls
        if scopes is not None:
            app.scopes = frozenset(scopes)
    app.application_url = application_url
    declared = sb.deliveries.app_subscriptions
    for gid in [g for g, s in declared.items() if s.app == app.name]:
        del declared[gid]
    webhooks = config.get("webhooks", {})
    version = str(webhooks.get("api_version", ""))
    for entry in webhooks.get("subscriptions", []):
        uri = resolve_uri(str(entry["uri"]), application_url)
        for topic in [*entry.get("topics", []), *entry.get("compliance_topics", [])]:
            sub = sb.declare_webhook(app.name, topic, uri, version)
            sub.filter = entry.get("filter")
            sub.include_fields = list(entry.get("include_fields", []))
    return app


def shop_body(sb: ShopifySandbox, domain: str) -> dict[str, Any]:
    """The shop as the app/uninstalled webhook carries it: the REST Shop resource
    (https://shopify.dev/docs/api/admin-rest/latest/resources/shop#resource-object). The sandbox keeps only a
    shop's domain, name, currency and plan; the rest are fixed sandbox values. Its plans are named after the rate
    limit tiers (cost.PLANS), and so is plan_name."""
    shop = sb.shops[domain]
    now = rest_time(sb.now())
    name = shop.name or domain.split(".", 1)[0]
    plan = sb.plans.get(domain, "standard")
    return {
        "id": shop.legacy_id, "name": name, "email": f"owner@{domain}", "domain": domain,
        "province": "", "country": "US", "address1": "", "zip": "", "city": "", "source": None, "phone": "",
        "latitude": None, "longitude": None, "primary_locale": "en", "address2": "",
        "created_at": now, "updated_at": now, "country_code": "US", "country_name": "United States",
        "currency": shop.currency, "customer_email": f"owner@{domain}", "timezone": "(GMT+00:00) Etc/UTC",
        "iana_timezone": "Etc/UTC", "shop_owner": name, "money_format": "${{amount}}",
        "money_with_currency_format": f"${{{{amount}}}} {shop.currency}", "weight_unit": "kg",
        "province_code": None, "taxes_included": False, "tax_shipping": None, "county_taxes": True,
        "plan_display_name": plan.title(), "plan_name": plan, "has_discounts": False, "has_gift_cards": False,
        "myshopify_domain": domain, "google_apps_domain": None, "google_apps_login_enabled": None,
        "money_in_emails_format": "${{amount}}", "money_with_currency_in_emails_format":
            f"${{{{amount}}}} {shop.currency}", "eligible_for_payments": True,
        "requires_extra_payments_agreement": False, "password_enabled": False, "has_storefront": True,
        "finances": True, "primary_location_id": None, "checkout_api_supported": True,
        "multi_location_enabled": True, "setup_required": False, "pre_launch_enabled": False,
        "enabled_presentment_currencies": [shop.currency], "transactional_sms_disabled": False,
        "marketing_sms_consent_enabled_at_checkout": False,
    }


async def uninstall(sb: ShopifySandbox, domain: str, client_id: str, *,
                    session: aiohttp.ClientSession | None = None) -> int | None:
    """The merchant uninstalls the app: its tokens (access and refresh) for the shop are revoked, its shop-scoped
    subscriptions deleted, and app/uninstalled, the shop as body, goes to its subscription for that topic
    (https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-app/uninstalled). The first
    delivery attempt's status, or None when the app subscribed to nothing for it."""
    app = sb.oauth_apps[client_id]
    if not sb.installed(domain, client_id):
        raise ValueError(f"{client_id} is not installed on {domain}")
    body = shop_body(sb, domain)
    receiver = sb.deliveries.target_for(domain, UNINSTALLED, app.name)  # before the subscriptions go
    sb.oauth.revoke(domain, app)
    sb.deliveries.remove_shop_subscriptions(domain, app.name)
    if receiver is None:
        return None
    return await sb.deliver_webhook(domain, UNINSTALLED, body, session=session, receiver=receiver)


class OAuthApps:
    """ShopifySandbox's OAuth API (a mixin, to keep control.py small): apps, installs, uninstalls, deploys.
    The state is in `self.oauth` (oauth_store.OAuthStore); the HTTP endpoints are oauth.py's."""

    oauth: OAuthStore
    oauth_apps: dict[str, OAuthApp]  # client_id -> app (the same dict as oauth.apps)
    token_requests: list[dict[str, Any]]  # every access_token request: shop, grant_type, client_id, status, error
    token_deadlines: dict[str, float]  # access token -> deadline on sb.clock (absent: never expires)

    def register_app(self: ShopifySandbox, client_id: str, client_secret: str, *, name: str | None = None,
                     redirect_urls: Iterable[str] = (), scopes: Iterable[str] | None = None,
                     organization_shops: Iterable[str] = (), access_token_ttl_s: float = 3599,
                     client_credentials_ttl_s: float = 86399, refresh_token_ttl_s: float = 7775999,
                     code_ttl_s: float = 600) -> OAuthApp:
        """An app with OAuth credentials (name defaults to client_id; scopes to self.scopes); client credentials
        work on its `organization_shops` only."""
        return self.oauth.register(client_id, client_secret, name=name, redirect_urls=redirect_urls, scopes=scopes,
                                   organization_shops=organization_shops, access_token_ttl_s=access_token_ttl_s,
                                   client_credentials_ttl_s=client_credentials_ttl_s,
                                   refresh_token_ttl_s=refresh_token_ttl_s, code_ttl_s=code_ttl_s)

    def install_app(self: ShopifySandbox, domain: str, client_id: str, *, scopes: Iterable[str] | None = None) -> None:
        """The merchant installs the app (Dev Dashboard, install link), granting `scopes` (default: the app's)."""
        self.oauth.install(domain, self.oauth_apps[client_id], scopes)

    def installed(self: ShopifySandbox, domain: str, client_id: str) -> bool:
        """Whether the app is installed on the shop."""
        return self.oauth.installed(domain, client_id)

    async def uninstall_app(self: ShopifySandbox, domain: str, client_id: str, *,
                            session: aiohttp.ClientSession | None = None) -> int | None:
        """Uninstall: revoke the app's tokens and shop-scoped subscriptions, deliver app/uninstalled; the first
        attempt's status, None if nobody subscribed."""
        return await uninstall(self, domain, client_id, session=session)

    def deploy_app_config(self: ShopifySandbox, path_or_text: str | os.PathLike[str], *, client_secret: str,
                          application_url: str) -> OAuthApp:
        """`shopify app deploy` of a shopify.app.toml (a path or its text); relative webhook uris resolve on
        `application_url`."""
        return deploy(self, path_or_text, client_secret=client_secret, application_url=application_url)
