"""The real processes: `holdfast sandbox`, `holdfast migrate`, `holdfast serve`, `holdfast audit verify`."""

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from storage.db import head_revision
from sandbox.devserver import BOT_TOKEN, CHANNEL, SHOP, SHOP_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]
HOLDFAST = [sys.executable, "-m", "bot.cli"]


def new_key() -> str:
    """A fresh HOLDFAST_SECRET_KEY (it seals the stored Shopify tokens)."""
    return Fernet.generate_key().decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_http(url: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if loop.time() > deadline:
                raise TimeoutError(f"{url} did not answer in {timeout}s")
            await asyncio.sleep(0.1)


async def poll(fetch, done, timeout: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await fetch()
        if done(value):
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met; last value: {value}")
        await asyncio.sleep(0.1)


async def run(env, *args) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*HOLDFAST, *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode, out.decode()


@pytest.fixture
async def processes(database_url, tmp_path):
    ports = {k: free_port() for k in ("shopify", "slack", "control", "bot")}
    env = {**os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(ROOT / "holdfast.example.yml"),
           "SHOPIFY_API_SECRET": WEBHOOK_SECRET, "SHOPIFY_SHOPS": f"{SHOP}={SHOP_TOKEN}",
           "HOLDFAST_SHOPIFY_ADMIN_URL": f"http://127.0.0.1:{ports['shopify']}/{{shop}}/admin/api/{{version}}/graphql.json",
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "HOLDFAST_SECRET_KEY": new_key(),
           "HOLDFAST_SLACK_API_URL": f"http://127.0.0.1:{ports['slack']}/api/", "HOLDFAST_WORKER_POLL_S": "0.1"}
    sandbox = await asyncio.create_subprocess_exec(
        *HOLDFAST, "sandbox", "--shopify-port", str(ports["shopify"]), "--slack-port", str(ports["slack"]),
        "--control-port", str(ports["control"]), "--shipstation-port", str(free_port()), "--bot-url", f"http://127.0.0.1:{ports['bot']}",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL)
    code, out = await run(env, "migrate")
    assert code == 0 and f"revision {head_revision()}" in out, out
    serve = await asyncio.create_subprocess_exec(*HOLDFAST, "serve", "--port", str(ports["bot"]), cwd=ROOT, env=env,
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await wait_http(f"http://127.0.0.1:{ports['control']}/messages")
        await wait_http(f"http://127.0.0.1:{ports['bot']}/healthz")
        yield env, ports, serve
    finally:
        for proc in (serve, sandbox):
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()


async def test_serve_against_the_standalone_sandbox(processes):
    env, ports, serve = processes
    control = f"http://127.0.0.1:{ports['control']}"
    async with aiohttp.ClientSession() as http:
        async def get(path):
            async with http.get(control + path) as resp:
                return await resp.json()

        async with http.post(f"{control}/orders", json={
                "customer": {"email": "sam@x.example", "first_name": "Sam", "tags": ["staff"]},
                "line_items": [{"title": "Mug", "quantity": 1, "price": "12.00"}]}) as resp:
            order = await resp.json()
        assert order["webhook_status"] == 200
        name = order["name"].lstrip("#")
        msgs = await poll(lambda: get("/messages"), lambda m: len(m["messages"]) == 1)
        assert f"Order #{name} needs approval" in msgs["messages"][0]["text"]
        state = await poll(lambda: get(f"/orders/{name}"),
                           lambda o: all(fo["status"] == "ON_HOLD" for fo in o["fulfillment_orders"]))
        assert "holdfast-pending" in state["tags"]
        async with http.post(f"{control}/click", json={"channel": CHANNEL, "ts": msgs["messages"][0]["ts"],
                                                       "action_id": "request-approve", "user": "U0ANA"}) as resp:
            assert (await resp.json())["status"] == 200
        state = await poll(lambda: get(f"/orders/{name}"), lambda o: "holdfast-approved" in o["tags"])
        assert all(fo["status"] == "OPEN" and not fo["holds"] for fo in state["fulfillment_orders"])
        await poll(lambda: get("/messages"), lambda m: "Approved" in m["messages"][0]["text"])

    code, out = await run(env, "audit", "verify")
    assert code == 0 and out.startswith("ok: ") and "audit rows" in out, out
    serve.terminate()
    assert await asyncio.wait_for(serve.wait(), 10) is not None
    log = (await serve.stdout.read()).decode()
    for secret in (BOT_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET, SHOP_TOKEN):
        assert secret not in log  # tokens and secrets never reach the logs


async def test_serve_refuses_an_invalid_policy_file(tmp_path, database_url):
    bad = tmp_path / "bad.yml"
    bad.write_text("policies:\n  - id: x\n    channel: approvals\n    approvers: {users: [U0ANA]}\n    when: {totl: 1}\n")
    code, out = await run({**os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(bad)}, "serve")
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in out and "Traceback" not in out
    code, out = await run({**os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(bad),
                           "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SHOPIFY_API_SECRET": "s",
                           "SHOPIFY_SHOPS": "a.myshopify.com=t", "HOLDFAST_SECRET_KEY": new_key()}, "serve")
    assert code == 2
    assert f"{bad}:3:14: error: policy x: channel: not a Slack channel id" in out
    assert f"{bad}:5:12: error: policy x: when.totl: unknown fact `totl`; expected one of all, any" in out
    assert "Traceback" not in out


async def test_poll_mode_finds_orders_without_any_webhook(database_url):
    """`holdfast serve --poll`: no webhook reaches the bot; reconciliation finds and holds the order."""
    ports = {k: free_port() for k in ("shopify", "slack", "control", "bot")}
    env = {**os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(ROOT / "holdfast.example.yml"),
           "SHOPIFY_API_SECRET": WEBHOOK_SECRET, "SHOPIFY_SHOPS": f"{SHOP}={SHOP_TOKEN}",
           "HOLDFAST_SHOPIFY_ADMIN_URL": f"http://127.0.0.1:{ports['shopify']}/{{shop}}/admin/api/{{version}}/graphql.json",
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "HOLDFAST_AUTO_MIGRATE": "true",
           "HOLDFAST_SECRET_KEY": new_key(),
           "HOLDFAST_SLACK_API_URL": f"http://127.0.0.1:{ports['slack']}/api/", "HOLDFAST_WORKER_POLL_S": "0.1",
           "HOLDFAST_POLL_EVERY_S": "1", "HOLDFAST_PID_FILE": ""}
    # The sandbox delivers webhooks to a port nobody listens on: only polling can find the order.
    sandbox = await asyncio.create_subprocess_exec(
        *HOLDFAST, "sandbox", "--shopify-port", str(ports["shopify"]), "--slack-port", str(ports["slack"]),
        "--control-port", str(ports["control"]), "--shipstation-port", str(free_port()), "--bot-url", f"http://127.0.0.1:{free_port()}",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL)
    serve = await asyncio.create_subprocess_exec(*HOLDFAST, "serve", "--poll", "--port", str(ports["bot"]), cwd=ROOT,
                                                 env=env, stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.DEVNULL)
    control = f"http://127.0.0.1:{ports['control']}"
    try:
        await wait_http(f"{control}/messages")
        await wait_http(f"http://127.0.0.1:{ports['bot']}/healthz")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{control}/orders", json={
                    "customer": {"email": "sam@x.example", "tags": ["staff"]},
                    "line_items": [{"title": "Mug", "quantity": 1, "price": "12.00"}]}) as resp:
                order = await resp.json()
            assert order["webhook_status"] != 200  # never delivered
            name = order["name"].lstrip("#")

            async def state():
                async with http.get(f"{control}/orders/{name}") as resp:
                    return await resp.json()

            held = await poll(state, lambda o: all(fo["status"] == "ON_HOLD" for fo in o["fulfillment_orders"]),
                              timeout=30)
            assert "holdfast-pending" in held["tags"]
    finally:
        for proc in (serve, sandbox):
            proc.terminate()
            await proc.wait()
