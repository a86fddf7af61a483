"""Fuzzing the two public routes with generated malformed input: never a 5xx, never a crash.

hypothesis draws structured examples (derandomized, so a CI failure reproduces); each example is then
fanned out into FANOUT byte-level mutants (truncated, bit-flipped, spliced with another example, grown,
bad UTF-8 injected, a value's type swapped, headers dropped or garbled), re-signed with the right secret
when the example was correctly signed, so the garbage reaches the parsers and not only the signature
check. Everything is sent concurrently over real loopback HTTP to the bot (DevStack: the bot plus sandbox
Shopify and Slack, in-process).

The CI run sends 300 examples x 17 = 5,100 inputs per route, 10,200 in total, in a few seconds;
HOLDFAST_FUZZ_EXAMPLES=N draws N examples per route instead. Afterwards the bot must still be healthy and
still process a real order end to end (the worker survived the garbage it accepted).
"""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from bot.cli.devstack import DevStack
from handlers.shopify_webhooks import MAX_BODY
from sandbox.devserver import CHANNEL, SHOP, SIGNING_SECRET, TEAM, WEBHOOK_SECRET
from sandbox.simulator import FORM, sign_slack_request
from sandbox.webhooks import sign_shopify_webhook
from tests.e2e.conftest import STAFF
from tests.security.conftest import FUZZ_SCALE, raw_http, raw_request

CONCURRENCY = 16
EXAMPLES = int(FUZZ_SCALE) or 300
FANOUT = 17


def generate(strategy: st.SearchStrategy, n: int) -> list[Any]:
    """n values drawn by hypothesis (derandomized, so a CI failure reproduces)."""
    out: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=True, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        out.append(value)

    collect()
    return out


# --- value strategies ----------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_values = st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=5),
                                                          st.dictionaries(st.text(max_size=12), kids, max_size=5)),
                           max_leaves=25)
ORDER_FIELDS = ["id", "admin_graphql_api_id", "name", "total_price", "subtotal_price", "total_discounts", "currency",
                "line_items", "customer", "tags", "discount_codes", "source_name", "shipping_address",
                "financial_status", "note_attributes", "email", "created_at", "total_line_items_price"]


@st.composite
def wrong_type_orders(draw) -> dict[str, Any]:
    """An order-shaped object whose fields carry wrong types (and sometimes no id)."""
    order = {k: draw(json_values) for k in draw(st.lists(st.sampled_from(ORDER_FIELDS), max_size=10, unique=True))}
    if draw(st.booleans()):
        order["id"] = draw(st.one_of(st.integers(min_value=1, max_value=2**62), st.text(max_size=20), json_values))
    if draw(st.booleans()):
        order["customer"] = {"tags": draw(st.one_of(st.text(max_size=20), st.lists(json_values, max_size=3))),
                             "email": draw(scalars)}
        if draw(st.booleans()):
            order["customer"]["tags"] = "staff"
    return order


def deep(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    inner = b'{"a":' * depth + b"1" + b"}" * depth  # deep inside an otherwise valid order
    return b'{"id":1,"line_items":' + inner + b"}"


deep_json = st.builds(deep, st.sampled_from([10, 500, 990, 1000, 1500, 5000, 100_000]),
                      st.sampled_from(["array", "object", "order"]))
bad_utf8 = st.builds(lambda prefix, junk, suffix: prefix + junk + suffix,
                     st.sampled_from([b'{"id":1,"name":"', b'{"id":"', b"payload=", b'{"type":"', b""]),
                     st.binary(min_size=1, max_size=20).map(lambda b: b"\xff\xfe" + b + b"\xc3\x28\xed\xa0\x80"),
                     st.sampled_from([b'"}', b"", b'"'] ))
json_bytes = json_values.map(lambda v: json.dumps(v).encode())
nonfinite = st.sampled_from([b'{"id":1,"total_price":NaN}', b'{"id":Infinity}', b'{"id":-Infinity}', b"NaN",
                             b'{"id":1,"name":"\\u0000"}', b'{"id":1,"name":"\\ud800"}', b'{"id":1e400}'])
bodies = st.one_of(st.binary(max_size=300), json_bytes, wrong_type_orders().map(lambda o: json.dumps(o).encode()),
                   deep_json, bad_utf8, nonfinite)
content_types = st.one_of(st.sampled_from(["application/json", "text/plain", FORM, "multipart/form-data",
                                           "application/json; charset=latin-1", "application/json; charset=bogus",
                                           "application/xml", "", "*/*"]),
                          st.text(alphabet=string.printable.strip(), max_size=30))
header_text = st.text(alphabet=string.ascii_letters + string.digits + "-_./:#@ ", max_size=60)


# --- Shopify webhooks ----------------------------------------------------------------------------------------

@st.composite
def shopify_inputs(draw) -> dict[str, Any]:
    body = draw(bodies)
    headers = {"X-Shopify-Topic": draw(st.one_of(st.sampled_from(["orders/create", "orders/updated",
                                                                     "app/uninstalled", ""]), header_text)),
               "X-Shopify-Shop-Domain": draw(st.one_of(st.just(SHOP), header_text)),
               "X-Shopify-Webhook-Id": draw(st.one_of(st.uuids().map(str), header_text)),
               "Content-Type": draw(content_types)}
    if draw(st.booleans()):
        headers["X-Shopify-Event-Id"] = draw(header_text)
    signing = draw(st.sampled_from(["good", "good", "good", "bad", "none", "garbage"]))
    if signing == "good":
        headers["X-Shopify-Hmac-Sha256"] = sign_shopify_webhook(WEBHOOK_SECRET, body)
    elif signing == "bad":
        headers["X-Shopify-Hmac-Sha256"] = sign_shopify_webhook("wrong", body)
    elif signing == "garbage":
        headers["X-Shopify-Hmac-Sha256"] = draw(header_text)
    for name in draw(st.lists(st.sampled_from(sorted(headers)), max_size=2)):
        headers.pop(name, None)
    return {"body": body, "headers": headers, "signing": signing}


# --- Slack ---------------------------------------------------------------------------------------------------

ACTION_IDS = ["request-approve", "request-reject", "something-else", ""]


@st.composite
def slack_payloads(draw) -> dict[str, Any]:
    """Interaction payloads with plausible structure and wrong types anywhere."""
    kind = draw(st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut",
                                 "message_action", "block_suggestion", "interactive_message", "garbage"]))
    payload: dict[str, Any] = {"type": kind if kind != "garbage" else draw(json_values),
                               "team": draw(st.one_of(st.just({"id": TEAM}), json_values)),
                               "user": draw(st.one_of(st.just({"id": draw(st.sampled_from(["U0ANA", "U0EVE", "UX"]))}),
                                                      json_values)),
                               "api_app_id": "A0HOLDFAST", "token": "x"}
    if kind == "block_actions":
        value = draw(st.one_of(st.builds(lambda r, v: json.dumps({"request_id": r, "version": v}),
                                         st.integers(-5, 10**12), st.integers(-5, 10**12)),
                               st.text(max_size=40), json_values.map(json.dumps)))
        action = {"action_id": draw(st.sampled_from(ACTION_IDS)), "block_id": "request-decision",
                  "type": "button", "value": value, "action_ts": "1.2"}
        for key in draw(st.lists(st.sampled_from(sorted(action)), max_size=2)):
            action[key] = draw(json_values)
        payload["actions"] = draw(st.one_of(st.just([action]), json_values))
        payload["channel"] = draw(st.one_of(st.just({"id": CHANNEL}), json_values))
        payload["container"] = draw(st.one_of(st.just({"type": "message", "message_ts": "1.1"}), json_values))
        payload["trigger_id"] = draw(st.one_of(st.just("1.2.3"), json_values))
    else:
        payload["view"] = draw(json_values)
        payload["callback_id"] = draw(st.one_of(st.text(max_size=20), json_values))
    for key in draw(st.lists(st.sampled_from(sorted(payload)), max_size=2)):
        if draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = draw(json_values)
    return payload


def event_body(event: Any, kind: Any) -> dict[str, Any]:
    return {"type": kind, "team_id": TEAM, "api_app_id": "A0HOLDFAST", "event": event, "challenge": "c",
            "event_id": "Ev1", "event_time": 1}


@st.composite
def slack_bodies(draw) -> tuple[bytes, str]:
    shape = draw(st.sampled_from(["payload", "payload", "payload", "slash", "event", "raw", "raw-form"]))
    if shape == "payload":
        payload = draw(slack_payloads())
        raw = json.dumps(payload) if draw(st.integers(0, 9)) else draw(st.text(max_size=80))
        return urlencode({"payload": raw}).encode(), FORM
    if shape == "slash":
        fields = {k: draw(st.text(max_size=30)) for k in draw(st.lists(
            st.sampled_from(["command", "text", "user_id", "channel_id", "team_id", "trigger_id", "response_url"]),
            max_size=7, unique=True))}
        return urlencode(fields).encode(), FORM
    if shape == "event":
        kind = draw(st.sampled_from(["url_verification", "event_callback", "app_rate_limited"]) | json_values)
        return json.dumps(event_body(draw(json_values), kind)).encode(), "application/json"
    if shape == "raw-form":
        return b"payload=" + draw(st.one_of(deep_json, bad_utf8, st.binary(max_size=200))), FORM
    return draw(bodies), draw(content_types)


@st.composite
def slack_inputs(draw) -> dict[str, Any]:
    body, content_type = draw(slack_bodies())
    if draw(st.integers(0, 9)) == 0:
        content_type = draw(content_types)
    now = int(time.time())
    stamp = draw(st.one_of(st.just(str(now)), st.just(str(now)), st.just(str(now)),
                           st.integers(-(2**64), 2**64).map(str), header_text))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp}
    signing = draw(st.sampled_from(["good", "good", "good", "bad", "none"]))
    if signing == "good":
        headers["X-Slack-Signature"] = sign_slack_request(SIGNING_SECRET, stamp, body)
    elif signing == "bad":
        headers["X-Slack-Signature"] = draw(st.one_of(header_text, st.just("v0=" + "0" * 64)))
    if draw(st.integers(0, 9)) == 0:
        headers["X-Slack-Retry-Num"] = draw(header_text)
    return {"body": body, "headers": headers, "signing": signing}


# --- mutation fan-out --------------------------------------------------------------------------------------------

def _swap_a_type(body: bytes, rng: random.Random) -> bytes:
    """Replace one value of a JSON document with a value of another type."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return body + b"}"
    nodes = [doc]
    containers = []
    while nodes and len(containers) < 200:
        node = nodes.pop()
        if isinstance(node, dict) and node:
            containers.append(node)
            nodes += list(node.values())
        elif isinstance(node, list) and node:
            containers.append(node)
            nodes += node
    if not containers:
        return json.dumps(rng.choice([{}, [], None, "x", 1, {"id": {}}, {"id": []}])).encode()
    target = rng.choice(containers)
    key = rng.choice(list(target)) if isinstance(target, dict) else rng.randrange(len(target))
    target[key] = rng.choice([None, True, -1, 2**64, 1.5, "", "x" * 300, [], {}, [[[]]], {"id": None}, "\u0000"])
    return json.dumps(doc).encode()


def mutate(body: bytes, other: bytes, rng: random.Random, op: int) -> bytes:
    """One byte-level mutation of `body` (op picks which)."""
    n = len(body)
    pos = rng.randrange(n + 1)
    if op == 0:
        return body[:pos]  # truncated
    if op == 1 and n:
        out = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(n)] ^= 1 << rng.randrange(8)  # bit flips
        return bytes(out)
    if op == 2:
        return body[:pos] + other[rng.randrange(len(other) + 1):]  # spliced with another example
    if op == 3:
        return body[:pos] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"\r\n", b'"', b"%", b"%ZZ",
                                        b"&payload=", b"{", b"]"]) + body[pos:]  # bad UTF-8 / syntax injected
    if op == 4:
        start = rng.randrange(n + 1)
        return body[:pos] + body[start:start + rng.randint(1, 64)] * rng.randint(2, 50) + body[pos:]  # grown
    if op == 5:
        return _swap_a_type(body, rng)
    if op == 6 and body.startswith(b"payload="):
        from urllib.parse import parse_qs, quote_plus
        try:
            inner = parse_qs(body.decode(), strict_parsing=False).get("payload", [""])[0].encode()
        except UnicodeDecodeError:
            return body[::-1]
        return b"payload=" + quote_plus(_swap_a_type(inner, rng)).encode()
    return body[::-1] if op == 6 else body


def fan_out(examples: list[dict[str, Any]], sign, seed: int) -> list[dict[str, Any]]:
    """Each example, then FANOUT - 1 mutants of it (re-signed when the example was signed correctly)."""
    out: list[dict[str, Any]] = []
    for i, item in enumerate(examples):
        rng = random.Random(seed * 1_000_003 + i)
        out.append(item)
        for k in range(FANOUT - 1):
            headers = dict(item["headers"])
            body = item["body"]
            if k < 14:
                body = mutate(body, examples[rng.randrange(len(examples))]["body"], rng, k % 7)
            elif k == 14:
                headers["Content-Type"] = rng.choice(["text/plain", "application/json", FORM,
                                                      "application/x-www-form-urlencoded; charset=utf-16",
                                                      "multipart/form-data; boundary=x", ""])
            else:
                for name in rng.sample(sorted(headers), k=min(len(headers), rng.randint(1, 2))):
                    del headers[name]
            signed = item["signing"] == "good" and k != 15
            if signed:
                headers = sign(body, headers)
            out.append({"body": body, "headers": headers, "signing": item["signing"] if signed else "mutated"})
    return out


def sign_shopify(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Shopify-Hmac-Sha256": sign_shopify_webhook(WEBHOOK_SECRET, body)}


def sign_slack(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    stamp = headers.get("X-Slack-Request-Timestamp") or str(int(time.time()))
    return {**headers, "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign_slack_request(SIGNING_SECRET, stamp, body)}


# --- the harness -----------------------------------------------------------------------------------------------

async def send_all(url: str, inputs: list[dict[str, Any]]) -> Counter:
    """POST every input (CONCURRENCY at a time); fail on the first 5xx or dropped connection."""
    statuses: Counter = Counter()
    failures: list[str] = []
    queue: asyncio.Queue = asyncio.Queue()
    for item in inputs:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, skip_auto_headers=("Content-Type",)) as http:
        async def worker() -> None:
            while not queue.empty():
                item = queue.get_nowait()
                try:
                    async with http.post(url, data=item["body"], headers=item["headers"],
                                         timeout=aiohttp.ClientTimeout(total=20)) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status = 0
                statuses[status] += 1
                if status >= 500 or status == 0:
                    failures.append(f"{status} for body {item['body'][:300]!r} headers {item['headers']}")

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    assert not failures, f"{len(failures)} server errors, first: {failures[:3]}"
    return statuses


async def still_works(stack: DevStack) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.bot_url}/healthz") as resp:
        assert resp.status == 200
    order = await stack.place_order(**STAFF)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:  # other (garbage) jobs may still be retrying: wait for this order only
        req = await stack.request_for(order)
        if req is not None and req.message_ts and req.hold_state == "placed":
            break
        assert loop.time() < deadline, "the worker no longer processes real orders after the fuzzing"
        await asyncio.sleep(0.05)


@pytest.fixture
async def fuzz_stack(database_url):
    # Short backoff and few attempts: garbage that was accepted (it is correctly signed) dies fast.
    async with DevStack(database_url=database_url, job_max_attempts=2) as s:
        yield s


async def test_fuzz_shopify_webhooks(fuzz_stack):
    stack = fuzz_stack
    inputs = fan_out(generate(shopify_inputs(), EXAMPLES), sign_shopify, seed=1)
    statuses = await send_all(f"{stack.bot_url}/shopify/webhooks", inputs)
    assert sum(statuses.values()) == len(inputs) == EXAMPLES * FANOUT
    assert statuses[401] > 0 and statuses[400] > 0 and statuses[200] > 0, statuses
    await still_works(stack)


async def test_fuzz_slack_events(fuzz_stack):
    stack = fuzz_stack
    inputs = fan_out(generate(slack_inputs(), EXAMPLES), sign_slack, seed=2)
    statuses = await send_all(f"{stack.bot_url}/slack/events", inputs)
    assert sum(statuses.values()) == len(inputs) == EXAMPLES * FANOUT
    assert statuses[401] > 0 and (statuses[200] + statuses[404] + statuses[400]) > 0, statuses
    await still_works(stack)


async def test_oversized_bodies_are_413(fuzz_stack):
    """Bodies over the limit are refused with 413 before any parsing, signed or not."""
    stack = fuzz_stack
    sizes = [MAX_BODY + 1, MAX_BODY + 4096, 3 * MAX_BODY]
    inputs = []
    for size in sizes:
        body = b'{"id":1,"x":"' + b"a" * (size - 15) + b'"}'
        inputs.append((f"{stack.bot_url}/shopify/webhooks",
                       {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                        "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                        "X-Shopify-Hmac-Sha256": sign_shopify_webhook(WEBHOOK_SECRET, body)}, body))
        stamp = str(int(time.time()))
        form = b"payload=" + b"a" * size
        inputs.append((f"{stack.bot_url}/slack/events",
                       {"Content-Type": FORM, "X-Slack-Request-Timestamp": stamp,
                        "X-Slack-Signature": sign_slack_request(SIGNING_SECRET, stamp, form)}, form))
    async with aiohttp.ClientSession() as http:
        for url, headers, body in inputs:
            async with http.post(url, data=body, headers=headers) as resp:
                assert resp.status == 413, (url, len(body))
    assert await stack.jobs() == []


async def test_raw_http_bad_utf8_headers_and_framing(fuzz_stack):
    """Header bytes no client library would send (invalid UTF-8, control bytes) and odd framing."""
    stack = fuzz_stack
    body = b'{"id":1}'
    good_hmac = sign_shopify_webhook(WEBHOOK_SECRET, body).encode()
    junk = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"caf\xe9", b"a\x01b", b"\x80" * 300]
    requests = []
    for bad in junk:
        for header in (b"X-Shopify-Webhook-Id", b"X-Shopify-Shop-Domain", b"X-Shopify-Topic", b"X-Shopify-Event-Id"):
            headers = {b"Content-Type": b"application/json", b"X-Shopify-Topic": b"orders/create",
                       b"X-Shopify-Shop-Domain": SHOP.encode(), b"X-Shopify-Webhook-Id": uuid.uuid4().hex.encode(),
                       b"X-Shopify-Hmac-Sha256": good_hmac, header: bad}
            requests.append(raw_request("/shopify/webhooks", list(headers.items()), body))
        stamp = str(int(time.time())).encode()
        form = b"payload=%7B%7D"
        requests.append(raw_request("/slack/events", [
            (b"Content-Type", FORM.encode()), (b"X-Slack-Request-Timestamp", stamp + bad),
            (b"X-Slack-Signature", sign_slack_request(SIGNING_SECRET, stamp.decode(), form).encode())], form))
        requests.append(raw_request("/slack/events", [
            (b"Content-Type", b"application/x-www-form-urlencoded; charset=" + bad),
            (b"X-Slack-Request-Timestamp", stamp),
            (b"X-Slack-Signature", sign_slack_request(SIGNING_SECRET, stamp.decode(), form).encode())], form))
    for request in requests:
        status = await raw_http(stack.bot_port, request)
        assert 0 < status < 500, request[:400]
    # Chunked bodies past the limit are cut off too.
    chunk = b"a" * 65536
    chunked = (b"POST /shopify/webhooks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Type: application/json\r\n\r\n"
               + (hex(len(chunk))[2:].encode() + b"\r\n" + chunk + b"\r\n") * (MAX_BODY // len(chunk) + 2)
               + b"0\r\n\r\n")
    assert await raw_http(stack.bot_port, chunked) == 413
    await still_works(stack)
