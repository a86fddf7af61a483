"""The fixes `holdfast doctor` names for a shop, by how its token is obtained (storage/shops.py's grant types)."""

from __future__ import annotations

from bot.settings import Settings
from storage import shops as shop_rows


def scope_fix(grant: str, settings: Settings, shop: str) -> str:
    """How the merchant grants the scopes shopify.app.toml declares."""
    if grant == shop_rows.LEGACY:
        return ("give the custom app these Admin API scopes in the store admin (Settings → Apps → Develop apps) and "
                "install it again, or move to the Dev Dashboard app (README)")
    if grant == shop_rows.AUTHORIZATION_CODE:
        # A merchant approves new scopes by going through the install again (bot/features/install).
        return f"the merchant must approve the new scopes: have them open {settings.install_url(shop)}"
    return ("release an app version with shopify.app.toml's scopes (`shopify app deploy`), then update the app on "
            "the store (Dev Dashboard → your app → Install app)")


def token_refused_fix(grant: str, settings: Settings, shop: str) -> str:
    """What to do when the Admin API answers 401 to a token just obtained."""
    if grant == shop_rows.LEGACY:
        return "the app was uninstalled or its token revoked: move to the Dev Dashboard app (README)"
    if grant == shop_rows.AUTHORIZATION_CODE:
        return f"the merchant must install the app again: have them open {settings.install_url(shop)}"
    return "install the app on the store again from the Dev Dashboard (your app → Home → Install app)"
