"""The ShipStation connector's operator tools, as run: `holdfast policy test` says what would happen in ShipStation
to a flagged order, `holdfast check` validates the `shipstation:` block offline, and `holdfast check --online` names
warehouses and tags the shop's ShipStation account (the sandbox stand-in, over HTTP) does not have."""

from __future__ import annotations

import json
import os

from aiohttp import web
from cryptography.fernet import Fernet

from sandbox.shipstation.state import ShipStationSandbox
from tests.e2e.test_processes import run

SHOP = "demo.myshopify.com"
KEY = "TEST_ss_key_e2e"
POLICY = """\
policies:
  - id: samples
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {order_tag: sample}
    shipstation:
      on_flag: {hold: true, tags: [awaiting-approval]}
      on_approve: {tags: [approved-sample], warehouse: "Samples room"}
"""


async def test_the_backtest_says_what_shipstation_would_do(tmp_path):
    policy, orders = tmp_path / "p.yml", tmp_path / "orders.jsonl"
    policy.write_text(POLICY)
    orders.write_text("\n".join(json.dumps(o) for o in [
        {"id": 1, "name": "#1001", "currency": "USD", "total_price": "12.00", "tags": "sample"},
        {"id": 2, "name": "#1002", "currency": "USD", "total_price": "8.00", "tags": ""},
    ]) + "\n")
    code, out = await run(os.environ, "policy", "test", "--config", str(policy), "--orders", str(orders))
    assert code == 0, out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("#1001"))
    assert lines[at + 1].strip() == ("ShipStation: hold, tag awaiting-approval; on approve: tag approved-sample, "
                                     "ship from Samples room")
    assert not any("ShipStation:" in line for line in lines[at + 2:]), out  # #1002 is not flagged
    code, out = await run(os.environ, "policy", "test", "--config", str(policy), "--orders", str(orders), "--json")
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{\"order\"")]
    assert [r["shipstation"] is not None for r in rows] == [True, False], out


async def test_check_teaches_a_misspelt_block_offline(tmp_path):
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY.replace("on_approve:", "on_aprove:"))
    code, out = await run(os.environ, "check", "--config", str(policy))
    assert code != 0 and (f"{policy}:8:7: error: policy samples: shipstation.on_aprove: unknown key `on_aprove`; "
                          "did you mean `on_approve`?") in out, out


async def test_check_online_names_what_shipstation_lacks(tmp_path):
    sb = ShipStationSandbox()
    sb.add_account(SHOP, api_key=KEY, warehouses=["Main"])
    runner = web.AppRunner(sb.make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY)
    env = {**os.environ, "SHIPSTATION_API_KEYS": f"{SHOP}={KEY}", "HOLDFAST_SHIPSTATION_API_URL": url,
           "HOLDFAST_SECRET_KEY": Fernet.generate_key().decode(),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"}
    env.pop("SLACK_BOT_TOKEN", None)
    try:
        code, out = await run(env, "check", "--config", str(policy), "--online")
        assert code == 1 and "Traceback" not in out, out
        assert (f'{policy}:8:56: policy samples: ShipStation of {SHOP} has no warehouse named "Samples room" '
                '(it has "Main")') in out, out
        assert f'{policy}:8:27: warning: policy samples: ShipStation of {SHOP} has no tag "approved-sample"' in out
        assert "1 ShipStation problem(s)" in out
        env["SHIPSTATION_API_KEYS"] = f"{SHOP}=wrong"
        code, out = await run(env, "check", "--config", str(policy), "--online")
        assert code == 1 and f"ShipStation refused the API key of {SHOP} (401)" in out and "wrong" not in out, out
        assert any(c["path"] == "/v2/warehouses" for c in sb.calls)
    finally:
        await runner.cleanup()
