"""The Shopify Admin API access scopes holdfast asks for: declared once, in shopify.app.toml (Shopify's own app
configuration, which `shopify app deploy` pushes), read here; WHY says what each is for, and a test holds the two
to the same set.

A contract test (tests/contract/test_shopify_scopes.py) derives from Shopify's own table of required access
(../shared/shopify/admin-2026-10.scopes.json) what every document in documents.py needs, and fails when this list
misses a scope or holds one no document uses; another test holds the README's scope table to it. The sandbox's
shop grants exactly these (sandbox/devserver.py), so a document that needs more fails the tests as it would fail
on a real shop. "Any scope that writes a resource also grants read access to it, so request the write scope only
when your app needs both" (https://shopify.dev/docs/api/usage/access-scopes): no read_X beside its write_X.
"""

from bot.shopify import app_config

# scope -> why holdfast needs it (one line each; the README's table says the same to the merchant)
WHY: dict[str, str] = {
    "write_orders": "read orders and their fulfillment status; tag them, note decisions, cancel rejected ones",
    "read_customers": "reconciliation reads the order's customer (tags, order count, email) for policies",
    "write_merchant_managed_fulfillment_orders": "hold and release fulfillment orders shipped from your locations",
    "write_third_party_fulfillment_orders": "the same for fulfillment orders a 3PL / fulfillment service ships",
    "read_products": "product tags and types in policies; product search in `/order-request`",
    "write_draft_orders": "`/order-request`: create, complete, tag or delete draft orders",
}

ACCESS_SCOPES: tuple[str, ...] = app_config.load().scopes
