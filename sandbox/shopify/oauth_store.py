"""The OAuth state behind the sandbox's token endpoint: apps, installs, codes, access and refresh tokens.

oauth.py speaks HTTP; this module holds what it decides on. Every deadline is on `sb.clock` (monotonic seconds).
Access tokens live where the GraphQL endpoint looks for them (`Shop.tokens`, token -> app name), their deadlines in
`deadlines` (absent: the token never expires).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .control import ShopifySandbox

# "The recovery period is limited to 30 days from the original refresh token's first use"
# (https://shopify.dev/changelog/more-resilient-refreshes-for-expiring-offline-access-tokens).
REFRESH_RETRY_WINDOW_S = 30 * 86400.0


@dataclass
class OAuthApp:
    """An app of the Dev Dashboard: its credentials, configuration and token lifetimes (mutable for tests)."""

    client_id: str
    client_secret: str
    name: str  # the app's name inside the sandbox: Shop.tokens values, grants, subscriptions
    redirect_urls: list[str] = field(default_factory=list)
    scopes: frozenset[str] = frozenset()
    organization_shops: set[str] = field(default_factory=set)  # client credentials allowed on these
    access_token_ttl_s: float = 3599
    client_credentials_ttl_s: float = 86399
    refresh_token_ttl_s: float = 7775999
    code_ttl_s: float = 600
    refresh_retry_window_s: float = REFRESH_RETRY_WINDOW_S
    application_url: str | None = None  # set by deploy_app_config


@dataclass
class Code:
    """An authorization code: single use, short lived."""

    shop: str
    client_id: str
    deadline: float


@dataclass
class Refresh:
    """A refresh token and its place in the rotation chain."""

    token: str
    shop: str
    client_id: str
    deadline: float
    parent: str | None = None  # the refresh token whose use issued this one
    replacement: str | None = None  # the refresh token this one's latest use issued
    first_used: float | None = None
    retired: bool = False


def _expires_in(ttl: float) -> float | int:
    """Whole seconds as an int (Shopify's shape); a fractional ttl a test set stays as it is."""
    return int(ttl) if float(ttl).is_integer() else ttl


class OAuthStore:
    """Apps by client id, who installed them, and every code and token handed out."""

    def __init__(self, sb: ShopifySandbox) -> None:
        self.sb = sb
        self.apps: dict[str, OAuthApp] = {}
        self.installs: set[tuple[str, str]] = set()  # (shop, client_id)
        self.codes: dict[str, Code] = {}
        self.refresh: dict[str, Refresh] = {}
        self.deadlines: dict[str, float] = {}  # access token -> sb.clock deadline
        self.requests: list[dict[str, Any]] = []  # every POST /admin/oauth/access_token

    # --- apps and installs -------------------------------------------------------------------------------------
    def register(self, client_id: str, client_secret: str, *, name: str | None = None,
                 redirect_urls: Iterable[str] = (), scopes: Iterable[str] | None = None,
                 organization_shops: Iterable[str] = (), access_token_ttl_s: float = 3599,
                 client_credentials_ttl_s: float = 86399, refresh_token_ttl_s: float = 7775999,
                 code_ttl_s: float = 600) -> OAuthApp:
        """Create (or replace) the app `client_id`."""
        app = OAuthApp(client_id, client_secret, name or client_id, list(redirect_urls),
                       frozenset(self.sb.scopes if scopes is None else scopes), set(organization_shops),
                       access_token_ttl_s, client_credentials_ttl_s, refresh_token_ttl_s, code_ttl_s)
        self.apps[client_id] = app
        return app

    def by_name(self, name: str | None) -> OAuthApp | None:
        """The registered app called `name` (None for the sandbox's static-token apps)."""
        return next((a for a in self.apps.values() if a.name == name), None)

    def authenticate(self, client_id: str, client_secret: str) -> OAuthApp | None:
        """The app if the secret is its own."""
        app = self.apps.get(client_id)
        if app is None or not hmac.compare_digest(app.client_secret.encode(), client_secret.encode()):
            return None
        return app

    def install(self, domain: str, app: OAuthApp, scopes: Iterable[str] | None, *, merge: bool = False) -> None:
        """The merchant installs `app` on `domain`, granting `scopes` (default: the app's); `merge` keeps what an
        earlier approval granted (a second authorization asks for more, it does not take away)."""
        if domain not in self.sb.shops:
            raise KeyError(f"no shop {domain!r}")
        granted = frozenset(app.scopes if scopes is None else scopes)
        if merge and (domain, app.client_id) in self.installs:
            granted |= self.sb.granted(domain, app.name)
        self.installs.add((domain, app.client_id))
        self.sb.grants[(domain, app.name)] = granted

    def installed(self, domain: str, client_id: str) -> bool:
        """Whether `client_id` is installed on `domain`."""
        return (domain, client_id) in self.installs

    def installed_names(self, domain: str) -> set[str]:
        """The names of the registered apps installed on `domain`."""
        return {a.name for a in self.apps.values() if (domain, a.client_id) in self.installs}

    def revoke(self, domain: str, app: OAuthApp) -> None:
        """Uninstall: every access token, refresh token, code and grant of `app` on `domain` is gone
        (https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-app/uninstalled)."""
        self.installs.discard((domain, app.client_id))
        tokens = self.sb.shops[domain].tokens
        for token in [t for t, name in tokens.items() if name == app.name]:
            del tokens[token]
            self.deadlines.pop(token, None)
        for store in (self.codes, self.refresh):
            for key in [k for k, v in store.items() if v.shop == domain and v.client_id == app.client_id]:
                del store[key]
        self.sb.grants.pop((domain, app.name), None)

    # --- access tokens -----------------------------------------------------------------------------------------
    def app_for_token(self, domain: str, token: str) -> str | None:
        """The app an access token belongs to on `domain`, or None; an expired token is dropped."""
        tokens = self.sb.shops[domain].tokens
        app = tokens.get(token)
        deadline = self.deadlines.get(token)
        if app is not None and deadline is not None and self.sb.clock() >= deadline:
            del tokens[token]
            del self.deadlines[token]
            return None
        return app

    def _mint(self, domain: str, app: OAuthApp, ttl: float | None) -> str:
        token = "shpat_" + secrets.token_hex(16)
        self.sb.shops[domain].tokens[token] = app.name
        if ttl is not None:
            self.deadlines[token] = self.sb.clock() + ttl
        return token

    def _scope(self, domain: str, app: OAuthApp) -> str:
        return ",".join(sorted(self.sb.granted(domain, app.name)))

    def client_credentials(self, domain: str, app: OAuthApp) -> dict[str, Any]:
        """A client credentials token: 24 hours, no refresh token
        (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant)."""
        ttl = app.client_credentials_ttl_s
        return {"access_token": self._mint(domain, app, ttl), "scope": self._scope(domain, app),
                "expires_in": _expires_in(ttl)}

    def offline(self, domain: str, app: OAuthApp, *, expiring: bool, parent: str | None = None) -> dict[str, Any]:
        """An offline token; `expiring` ones last an hour and come with a refresh token, the others never expire
        (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens)."""
        if not expiring:
            return {"access_token": self._mint(domain, app, None), "scope": self._scope(domain, app)}
        ttl, refresh_ttl = app.access_token_ttl_s, app.refresh_token_ttl_s
        refresh = Refresh("shprt_" + secrets.token_hex(16), domain, app.client_id, self.sb.clock() + refresh_ttl,
                          parent)
        self.refresh[refresh.token] = refresh
        return {"access_token": self._mint(domain, app, ttl), "expires_in": _expires_in(ttl),
                "refresh_token": refresh.token, "refresh_token_expires_in": _expires_in(refresh_ttl),
                "scope": self._scope(domain, app)}

    # --- codes -------------------------------------------------------------------------------------------------
    def issue_code(self, domain: str, app: OAuthApp) -> str:
        """A fresh authorization code for `app` on `domain`."""
        code = secrets.token_hex(16)
        self.codes[code] = Code(domain, app.client_id, self.sb.clock() + app.code_ttl_s)
        return code

    def redeem_code(self, domain: str, app: OAuthApp, code: str) -> bool:
        """Use a code up; False if unknown, used, expired or another app's or shop's."""
        found = self.codes.pop(code, None)
        return (found is not None and found.shop == domain and found.client_id == app.client_id
                and self.sb.clock() < found.deadline)

    # --- refresh rotation --------------------------------------------------------------------------------------
    def use_refresh(self, domain: str, app: OAuthApp, token: str) -> dict[str, Any] | None:
        """A new expiring pair for a refresh token, or None (invalid_grant).

        "An app can retry its previously stored refresh token until it starts using the replacement refresh
        token ... When an app uses the replacement refresh token, the preceding refresh token is retired"
        (https://shopify.dev/changelog/more-resilient-refreshes-for-expiring-offline-access-tokens). So a retry of
        R1 issues a new pair whose refresh token becomes R1's replacement (the one issued before is retired), and
        using R1's current replacement retires R1. Access tokens issued earlier are left to their own expiry.
        """
        found = self.refresh.get(token)
        now = self.sb.clock()
        if (found is None or found.retired or found.shop != domain or found.client_id != app.client_id
                or now >= found.deadline):
            return None
        if found.first_used is None:
            found.first_used = now
        elif now - found.first_used > app.refresh_retry_window_s:
            found.retired = True
            return None
        parent = self.refresh.get(found.parent) if found.parent else None
        if parent is not None and parent.replacement == token:
            parent.retired = True
        if found.replacement in self.refresh:
            self.refresh[found.replacement].retired = True
        pair = self.offline(domain, app, expiring=True, parent=token)
        found.replacement = pair["refresh_token"]
        return pair
