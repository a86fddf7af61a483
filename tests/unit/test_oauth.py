"""The token endpoint's answers and the install callback's checks, table-driven, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shopify

from bot.features.install import service
from bot.settings import Settings
from bot.shopify.oauth import GrantRefused, operator_hint, parse_grant

NOW = datetime.now(UTC).replace(microsecond=0)  # ShopifyAPI checks the callback timestamp on the wall clock
SETTINGS = Settings(shopify_client_id="cid", shopify_client_secret="csecret", public_url="https://h.example.com")


@pytest.mark.parametrize("body, expires, refresh", [
    ({"access_token": "shpat_a", "scope": "write_orders", "expires_in": 86399}, timedelta(seconds=86399), None),
    ({"access_token": "shpat_a", "scope": "write_orders"}, None, None),  # a non-expiring offline token
    ({"access_token": "shpat_a", "expires_in": 3599, "refresh_token": "shprt_r", "refresh_token_expires_in": 7775999},
     timedelta(seconds=3599), timedelta(seconds=7775999)),
])
def test_parse_grant(body, expires, refresh):
    grant = parse_grant(body, now=NOW)
    assert grant.access_token == "shpat_a"
    assert grant.expires_at == (NOW + expires if expires else None)
    assert grant.refresh_expires_at == (NOW + refresh if refresh else None)
    assert "shpat_a" not in repr(grant) and "shprt" not in repr(grant)


@pytest.mark.parametrize("body", [None, {}, {"access_token": ""}, {"access_token": "a", "expires_in": -1},
                                  {"access_token": "a", "expires_in": "soon"}, {"access_token": "a", "refresh_token": 7}])
def test_parse_grant_refuses_what_is_not_a_token(body):
    with pytest.raises(ValueError):
        parse_grant(body, now=NOW)


@pytest.mark.parametrize("error, grant_type, says", [
    ("invalid_client", "client_credentials", "SHOPIFY_CLIENT_ID / SHOPIFY_CLIENT_SECRET"),
    ("app_not_installed", "client_credentials", "Install app"),
    ("shop_not_permitted", "client_credentials", "https://i/x"),
    ("invalid_grant", "authorization_code", "install the app again: open https://i/x"),
])
def test_each_refusal_says_what_to_do(error, grant_type, says):
    hint = operator_hint(GrantRefused("s.myshopify.com", error, "because", 400), grant_type=grant_type,
                         install_url="https://i/x")
    assert says in hint and hint.startswith("s.myshopify.com: ")


@pytest.mark.parametrize("shop, ok", [("demo-store.myshopify.com", True), ("Demo-Store.MyShopify.com", True),
                                      ("demo.myshopify.com.evil.com", False), ("evil.com", False), ("", False),
                                      ("-x.myshopify.com", False), ("a_b.myshopify.com", False), (None, False)])
def test_valid_shop(shop, ok):
    assert (service.valid_shop(shop) is not None) is ok


def signed(**params: str) -> dict[str, str]:
    session = type("S", (shopify.Session,), {"secret": "csecret"})
    return {**params, "hmac": session.calculate_hmac(params)}


def callback_case(tamper: str) -> tuple[dict[str, str], str | None]:
    start = service.start(SETTINGS, shop="demo-store.myshopify.com", now=NOW)
    nonce = start.cookie.split(":")[0]
    query = signed(code="c0de", shop="demo-store.myshopify.com", state=nonce, host="aG9zdA",
                   timestamp=str(int(NOW.timestamp())))
    cookie: str | None = start.cookie
    if tamper == "hmac":
        query["code"] = "other"
    elif tamper == "state":
        query = signed(**{**{k: v for k, v in query.items() if k != "hmac"}, "state": "not-the-nonce"})
    elif tamper == "shop":
        query = signed(**{**{k: v for k, v in query.items() if k != "hmac"}, "shop": "other.myshopify.com"})
    elif tamper == "cookie":
        cookie = None
    elif tamper == "forged-cookie":
        cookie = f"{nonce}:{int(NOW.timestamp())}:{'0' * 64}"
    return query, cookie


@pytest.mark.parametrize("tamper, why", [("none", None), ("hmac", "hmac"), ("state", "state"),
                                         ("shop", "another shop"), ("cookie", "cookie"),
                                         ("forged-cookie", "altered")])
def test_check_callback(tamper, why):
    query, cookie = callback_case(tamper)
    found = service.check_callback(SETTINGS, query, cookie, now=NOW + timedelta(seconds=5))
    assert (found is None) if why is None else (why in found[1] and found[0] == (403 if why == "hmac" else 400))


def test_an_install_started_too_long_ago_is_refused():
    query, cookie = callback_case("none")
    found = service.check_callback(SETTINGS, query, cookie, now=NOW + timedelta(seconds=service.STATE_TTL_S + 1))
    assert found and found[0] == 400 and "minutes ago" in found[1]


def test_the_authorize_url_carries_scopes_redirect_and_state():
    start = service.start(SETTINGS, shop="demo-store.myshopify.com", now=NOW)
    assert start.authorize_url.startswith("https://demo-store.myshopify.com/admin/oauth/authorize?client_id=cid&")
    assert "redirect_uri=https%3A%2F%2Fh.example.com%2Fshopify%2Fcallback" in start.authorize_url
    assert f"state={start.cookie.split(':')[0]}" in start.authorize_url


@pytest.mark.parametrize("granted, missing", [("write_orders,read_customers", ["write_merchant_managed_fulfillment_orders"]),
                                              (None, ["write_orders"])])
def test_missing_scopes(granted, missing):
    assert set(missing) <= set(service.missing_scopes(granted))
