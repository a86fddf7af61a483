"""What holdfast sends and publishes, checked against the real services' own definitions."""

import json
import time

import pytest
import yaml
from graphql import parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

from bot.shopify import documents
from handlers.shopify_webhooks import valid_hmac
from tests.conftest import ROOT_DIR, shared_file


# Every rule of the spec, and no deprecated field, argument, input field or enum value: a deprecated part of the
# pinned version is removed in a later one, and Shopify serves a retired version as the next (falls forward).
RULES = [*specified_rules, NoDeprecatedCustomRule]


@pytest.mark.parametrize("name", sorted(documents.ALL))
def test_graphql_document_validates_against_shopify_schema(shopify_schema, name):
    document = parse(documents.ALL[name])
    errors = validate(shopify_schema, document, RULES)
    assert errors == [], [e.message for e in errors]
    # The operation name is what the client reports and the sandbox records.
    assert document.definitions[0].name.value == name


def test_every_document_is_listed():
    sent = {v for k, v in vars(documents).items() if k.isupper() and isinstance(v, str)}
    assert sent == set(documents.ALL.values())


def test_manifest_validates_against_slack_schema():
    import jsonschema

    schema = json.loads(shared_file("slack", "manifest-schema", "schemas", "manifest.schema.1.0.0.json").read_text())
    manifest = yaml.safe_load((ROOT_DIR / "manifest.yml").read_text())
    jsonschema.validate(manifest, schema)
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_manifest_schema_catches_a_broken_manifest():
    # Guard against a validator that accepts anything.
    import jsonschema

    schema = json.loads(shared_file("slack", "manifest-schema", "schemas", "manifest.schema.1.0.0.json").read_text())
    manifest = yaml.safe_load((ROOT_DIR / "manifest.yml").read_text())
    manifest["display_information"]["name"] = ""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, schema)


def _vectors():
    return json.loads(shared_file("vectors", "signature_vectors.json").read_text())


def test_slack_signing_vector_passes_bolts_verifier():
    from slack_sdk.signature import SignatureVerifier

    v = _vectors()["slack"][0]
    ts = int(v["timestamp"])
    verifier = SignatureVerifier(v["signing_secret"], clock=type("C", (), {"now": lambda self: ts + 10})())
    headers = {"x-slack-request-timestamp": v["timestamp"], "x-slack-signature": v["expected_signature"]}
    assert verifier.is_valid_request(v["body"], headers)
    assert not verifier.is_valid_request(v["negative_cases"][0]["body"], headers)
    # Outside the 5-minute replay window the same request is refused.
    late = SignatureVerifier(v["signing_secret"], clock=type("C", (), {"now": lambda self: ts + 301})())
    assert not late.is_valid_request(v["body"], headers)
    assert not SignatureVerifier(v["signing_secret"]).is_valid_request(v["body"], headers)  # real clock: too old
    assert time.time() > ts + v["replay_window_seconds"]


@pytest.mark.parametrize("index", range(4))
def test_shopify_hmac_vectors(index):
    v = _vectors()["shopify"][index]
    body = v["body"].encode()
    if "old secret" in v["name"]:
        # Valid only while the previous secret is still accepted after a rotation.
        assert valid_hmac(body, v["expected_hmac_base64"], ["secret", v["secret"]])
        assert not valid_hmac(body, v["expected_hmac_base64"], ["secret"])
    else:
        assert valid_hmac(body, v["expected_hmac_base64"], [v["secret"]])
        assert not valid_hmac(body + b" ", v["expected_hmac_base64"], [v["secret"]])
        assert not valid_hmac(body, v["expected_hmac_base64"], ["wrong"])
    assert not valid_hmac(body, None, [v["secret"]])


def test_schema_check_catches_a_wrong_document(shopify_schema):
    # Guard against a check that passes everything: a field Shopify does not have must fail.
    errors = validate(shopify_schema, parse("query { order(id: \"gid://shopify/Order/1\") { approvalState } }"), RULES)
    assert errors and "approvalState" in errors[0].message


@pytest.mark.parametrize(("document", "deprecated"), [
    ("query { webhookSubscriptions(first: 1) { nodes { callbackUrl } } }", "callbackUrl"),
    ('mutation { orderCancel(orderId: "gid://shopify/Order/1", reason: OTHER, refund: true, restock: false) '
     "{ job { id } } }", "refund"),
    ('query { webhookSubscriptions(first: 1, callbackUrl: "https://x") { nodes { id } } }', "callbackUrl"),
    ('mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {callbackUrl: "https://x"}) '
     "{ webhookSubscription { id } } }", "callbackUrl"),
])
def test_schema_check_catches_deprecated_parts(shopify_schema, document, deprecated):
    errors = validate(shopify_schema, parse(document), RULES)
    assert errors and all(deprecated in e.message and "deprecated" in e.message for e in errors), errors
