"""Operator policy tools: `holdfast policy test` (backtest) and reloading a running server's policies."""

import asyncio
import json
import os
import shutil
import sys

import aiohttp
from cryptography.fernet import Fernet

from bot.approvals.policies import load_text
from bot.policy_file import load_file
from bot.cli.devstack import SHOP
from sandbox.devserver import SHOP_TOKEN
from tests.e2e.test_processes import ROOT, free_port, poll, run, wait_http

EXAMPLE = ROOT / "holdfast.example.yml"


async def test_backtest_a_file_prints_each_order_and_a_summary(tmp_path):
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(json.dumps(o) for o in [
        {"id": 1, "name": "#1001", "currency": "USD", "total_price": "12.00", "tags": "staff"},
        {"id": 2, "name": "#1002", "currency": "USD", "total_price": "8000.00", "tags": ""},
        {"id": 3, "name": "#1003", "currency": "USD", "total_price": "8.00", "tags": ""},
    ]) + "\n")
    code, out = await run(os.environ, "policy", "test", "--config", str(EXAMPLE), "--orders", str(orders))
    assert code == 0, out
    # Said once, up front: what a file of webhooks cannot hold, instead of "missing" on every order.
    assert out.count("webhook payloads do not contain customer tags") == 1 and "--from-shop" in out
    assert out.index("webhook payloads do not contain") < out.index("#1001")
    assert "missing: customer_tag" not in out and "risk_level" not in out
    # Each order: its total (as the Slack message writes it), its customer ("-": none), the policy and why.
    assert "#1001             12.00 USD  -                            staff-orders             order tag `staff`" in out
    assert ("#1002          8,000.00 USD  -                            high-value               "
            "total price 8,000 USD ≥ 5,000 USD") in out
    assert "#1003              8.00 USD  -                            -\n" in out
    assert "3 orders: 1 flagged by staff-orders, 1 flagged by high-value, 1 not flagged" in out
    code, out = await run(os.environ, "policy", "test", "--config", str(EXAMPLE), "--orders", str(orders), "--json")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert lines[0]["policy"] == "staff-orders" and lines[-1]["summary"]["not_flagged"] == 1


async def test_backtest_reports_a_broken_file_and_a_broken_policy(tmp_path):
    bad = tmp_path / "orders.json"
    bad.write_text('[{"id": 1}')
    code, out = await run(os.environ, "policy", "test", "--config", str(EXAMPLE), "--orders", str(bad))
    assert code == 2 and "not closed" in out and "Traceback" not in out
    policy = tmp_path / "p.yml"
    policy.write_text("policies: [{id: x}]\n")
    code, out = await run(os.environ, "policy", "test", "--config", str(policy), "--orders", str(bad))
    assert code == 2 and f"{policy}:1:12: error: policy x: channel: Field required; add it, e.g. `channel: C…`" in out


async def test_backtest_from_the_shop_pages_through_graphql(tmp_path):
    port, control = free_port(), free_port()
    env = {**os.environ, "SHOPIFY_SHOPS": f"{SHOP}={SHOP_TOKEN}",
           "HOLDFAST_SHOPIFY_ADMIN_URL": f"http://127.0.0.1:{port}/{{shop}}/admin/api/{{version}}/graphql.json"}
    sandbox = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "sandbox", "--shopify-port", str(port), "--slack-port", str(free_port()),
        "--control-port", str(control), "--shipstation-port", str(free_port()), "--bot-url", "http://127.0.0.1:9",
        cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL)
    try:
        await wait_http(f"http://127.0.0.1:{control}/messages")
        async with aiohttp.ClientSession() as http:
            for i in range(60):  # several pages
                tags = ["staff"] if i % 3 == 0 else []
                async with http.post(f"http://127.0.0.1:{control}/orders", json={
                        "customer": {"email": f"c{i}@x.example", "tags": tags},
                        "line_items": [{"title": "Mug", "quantity": 1, "price": "12.00"}]}) as resp:
                    assert resp.status == 200
        code, out = await run(env, "policy", "test", "--config", str(EXAMPLE), "--from-shop", "--since", "1d")
        assert code == 0, out
        assert "60 orders: 20 flagged by staff-orders, 40 not flagged" in out
        assert "do not contain" not in out  # read from the shop, every fact is there: no notice
        first = next(line.split()[0] for line in out.splitlines() if line.startswith("#"))
        code, out = await run(env, "policy", "test", "--config", str(EXAMPLE), "--from-shop", "--since", "1d",
                              "--explain", first)
        assert code == 0 and f"{first} (id " in out and "customer tag `staff` — customer tag: " in out, out
        assert "customer tag: missing" not in out and "risk level: missing" not in out  # read through GraphQL
    finally:
        sandbox.terminate()
        await sandbox.wait()


async def test_sighup_reload_keeps_the_last_good_policies(tmp_path, database_url):
    config = tmp_path / "holdfast.yml"
    shutil.copy(EXAMPLE, config)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(config),
           "HOLDFAST_PID_FILE": str(tmp_path / "holdfast.pid"), "HOLDFAST_AUTO_MIGRATE": "true",
           "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SHOPIFY_API_SECRET": "s",
           "SHOPIFY_SHOPS": f"{SHOP}={SHOP_TOKEN}", "HOLDFAST_RUN_SCHEDULER": "false",
           "HOLDFAST_SECRET_KEY": Fernet.generate_key().decode()}
    serve = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
                                                 cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        await wait_http(url)

        async def health():
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                return await resp.json()

        first = await health()
        assert first["policies"] == len(load_file(EXAMPLE).policies)
        shorter = EXAMPLE.read_text().split("\n  - id: b2b-net-terms")[0] + "\n"
        config.write_text(shorter)
        code, out = await run(env, "check", "--reload")
        assert code == 0 and "asked the server" in out, out
        second = await poll(health, lambda h: h["policy_file_hash"] != first["policy_file_hash"])
        assert second["policies"] == len(load_text(shorter).policies) < first["policies"]
        config.write_text("policies: [{id: broken}]\n")
        code, out = await run(env, "check", "--reload")
        assert code == 2 and "policy broken" in out  # an invalid file is never sent to the server
        os.kill(serve.pid, __import__("signal").SIGHUP)  # even a direct SIGHUP keeps the last good policies
        await asyncio.sleep(0.5)
        assert (await health())["policy_file_hash"] == second["policy_file_hash"]
    finally:
        serve.terminate()
        await serve.wait()


async def test_check_reload_fails_when_no_server_got_the_signal(tmp_path, database_url):
    config = tmp_path / "holdfast.yml"
    shutil.copy(EXAMPLE, config)
    env = {**os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(config),
           "HOLDFAST_PID_FILE": str(tmp_path / "holdfast.pid")}
    code, out = await run(env, "check", "--reload")
    assert code == 1 and "no running server found" in out, out
    (tmp_path / "holdfast.pid").write_text("999999999")  # a stale file of a server long gone
    code, out = await run(env, "check", "--reload")
    assert code == 1 and "not running" in out, out


def test_a_second_server_leaves_the_first_ones_pid_file(tmp_path, caplog):
    from bot import process_guard

    pid_file = tmp_path / "holdfast.pid"
    pid_file.write_text(str(os.getppid()))  # a live process: the "first server"
    assert process_guard.claim_pid_file(pid_file) is False
    assert pid_file.read_text() == str(os.getppid()) and "another holdfast serve" in caplog.text
    pid_file.write_text("999999999")  # stale: taken over
    assert process_guard.claim_pid_file(pid_file) is True and pid_file.read_text() == str(os.getpid())


def test_a_second_server_on_one_sqlite_file_is_warned(tmp_path, caplog):
    import subprocess

    from bot import process_guard

    url = f"sqlite+aiosqlite:///{tmp_path / 'holdfast.db'}"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from bot import process_guard as g; "
                               f"g.warn_if_sqlite_shared({url!r}); print('held', flush=True); time.sleep(30)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        process_guard.warn_if_sqlite_shared(url)
        assert "another holdfast serve is running on" in caplog.text
    finally:
        holder.kill()
        holder.wait()


def test_the_start_banner_says_where_what_and_how_without_secrets():
    from bot.cli.main import banner
    from bot.settings import Settings

    settings = Settings(database_url="postgresql://holdfast:s3cret-pw@db.internal/holdfast", config_path=EXAMPLE,
                        shopify_shop="own.myshopify.com")
    policies = load_file(EXAMPLE)
    line = banner(settings, host="0.0.0.0", port=3000, worker=True, socket_mode=False, policies=policies)
    assert "listening on http://0.0.0.0:3000" in line and str(EXAMPLE) in line and policies.file_hash[:12] in line
    assert "db.internal/holdfast" in line and "s3cret-pw" not in line
    assert "own.myshopify.com" in line and "Shopify webhooks" in line and "worker" in line
