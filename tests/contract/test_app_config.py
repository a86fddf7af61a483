"""shopify.app.toml, Shopify's own app configuration (https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration),
against what holdfast serves: its scopes are holdfast's one declaration of them, every subscribed topic is one
holdfast handles at a route it serves, in the API version it pins, and the redirect URL is its callback."""

from __future__ import annotations

import tomllib

import pytest

from bot.app import create_app
from bot.approvals.policies import load_text
from bot.ingest import FULFILLMENT_ORDER_TOPICS, ORDER_TOPICS, PRIVACY_TOPICS, UNINSTALL_TOPIC
from bot.settings import Settings
from bot.shopify import app_config
from bot.shopify.scopes import ACCESS_SCOPES, WHY

RAW = tomllib.loads(app_config.PATH.read_text(encoding="utf-8"))
CONFIG = app_config.load()


def routes(method: str) -> set[str]:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key=""),
                     policies=load_text("policies: []\n"))
    return {r.resource.canonical for r in app.router.routes() if r.method == method and r.resource is not None}


def test_the_scopes_are_declared_here_once_and_each_has_its_reason():
    assert CONFIG.scopes == ACCESS_SCOPES
    assert set(WHY) == set(CONFIG.scopes), "each scope in shopify.app.toml needs its line in bot/shopify/scopes.py WHY"
    assert len(set(CONFIG.scopes)) == len(CONFIG.scopes)


def test_webhooks_are_app_scoped_in_the_pinned_version_and_handled():
    assert CONFIG.api_version == Settings().shopify_api_version == "2026-10"
    assert {"orders/create", "app/uninstalled", "fulfillment_orders/order_routing_complete"} <= CONFIG.topics
    assert CONFIG.topics <= ORDER_TOPICS | FULFILLMENT_ORDER_TOPICS | {UNINSTALL_TOPIC}, "a topic nothing handles"
    assert CONFIG.compliance_topics == PRIVACY_TOPICS
    # A shop installed through /shopify/install needs no shop-scoped subscription: the hourly check creates none.
    assert set(Settings().webhook_topic_list()) <= CONFIG.topic_enums()


def test_topics_are_webhook_subscription_topics_of_the_schema(shopify_schema):
    values = set(shopify_schema.get_type("WebhookSubscriptionTopic").values)
    assert CONFIG.topic_enums() <= values


def test_uris_and_urls_are_routes_holdfast_serves():
    posts, gets = routes("POST"), routes("GET")
    for sub in RAW["webhooks"]["subscriptions"]:
        assert sub["uri"].startswith("/") and sub["uri"] in posts  # relative: resolved on application_url
    assert CONFIG.redirect_paths == ("/shopify/callback",) and "/shopify/callback" in gets
    assert RAW["application_url"].endswith("/shopify/install") and "/shopify/install" in gets
    # holdfast runs the authorization code grant itself (not Shopify-managed installation with token exchange).
    assert RAW["access_scopes"]["use_legacy_install_flow"] is True
    assert RAW["embedded"] is False


def test_a_missing_part_is_an_error_not_a_silent_default():
    with pytest.raises(KeyError):
        app_config.parse('[webhooks]\napi_version = "2026-10"\n')
