"""`holdfast doctor` against the sandbox: everything right, then each check broken on its own (nothing else)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from bot.cli.devstack import ROOT, DevStack
from bot.cli.doctor import FAIL, OK, render, report, run_checks
from bot.jobs import scheduler
from sandbox.devserver import APP, CHANNEL, CLIENT_ID, SHOP

PUBLIC = "https://holdfast.example.com"  # where Shopify sends webhooks (HOLDFAST_PUBLIC_URL)
CONFIG = ROOT / "holdfast.example.yml"
SHOPIFY = f"Shopify {SHOP}"


@pytest.fixture
async def stack(database_url):
    """The DevStack of conftest.py, set up as an operator would finish it: a public URL, the webhook check run
    once (as `holdfast serve` does at start), and the user group the example policies name."""
    async with DevStack(database_url=database_url, public_url=PUBLIC) as s:
        s.slack.add_usergroup("S0FINANCE", ["U0BEN"])
        await scheduler.run_period(s.rt, next(p for p in scheduler.periodic_jobs(s.rt.settings)
                                              if p.name == "webhook-check"))
        await s.settle()
        yield s


def doctor_settings(stack: DevStack, **update: Any):
    return stack.settings().model_copy(update={"config_path": CONFIG, **update})


def by_name(checks) -> dict[tuple[str, str], Any]:
    return {(c.group, c.name): c for c in checks}


async def test_everything_right_is_all_ok(stack):
    checks = await run_checks(doctor_settings(stack))
    assert [c for c in checks if c.status != OK] == []
    found = by_name(checks)
    for key in [("Database", "database"), ("Policies", "policy file"), ("Slack", "bot token"), ("Slack", "scopes"),
                ("Slack", "channel #order-approvals"), ("Slack", "user U0ANA"), ("Slack", "user U0BEN"),
                ("Slack", "user group S0FINANCE"), (SHOPIFY, "token"), (SHOPIFY, "scopes"), (SHOPIFY, "API version"),
                (SHOPIFY, "webhooks"), (SHOPIFY, "customer data")]:
        assert key in found, key
    text = render(checks)
    assert "FAIL" not in text and "fix:" not in text and text.endswith("holdfast is ready to serve")
    print(text)  # the checklist an operator sees, with `pytest -s`
    doc = json.loads(json.dumps(report(checks)))
    assert doc["ok"] is True and len(doc["checks"]) == len(checks)
    assert all(set(c) == {"group", "name", "ok", "detail", "fix"} and c["ok"] for c in doc["checks"])


def _drop_scope(stack: DevStack) -> None:
    stack.slack.bot_scopes = tuple(s for s in stack.slack.bot_scopes if s != "files:write")


def _drop_grant(stack: DevStack) -> None:
    stack.shopify.grants[(SHOP, APP)] = stack.shopify.grants[(SHOP, APP)] - {"read_products"}


def _drop_subscription(stack: DevStack) -> None:
    stack.shopify.webhook_subscriptions.pop(next(k for k, s in stack.shopify.webhook_subscriptions.items()
                                                 if s.topic == "ORDERS_UPDATED"))


def _rotate_secret(stack: DevStack) -> None:  # someone rotated the client secret in the Dev Dashboard
    stack.shopify.oauth_apps[CLIENT_ID].client_secret = "rotated-in-the-dev-dashboard"


BROKEN: dict[str, tuple[Callable[[DevStack], None] | None, dict[str, Any], tuple[str, str], str]] = {
    # case: (break the sandbox, or settings to change; the check that must fail; a part of its fix)
    "wrong bot token": (None, {"slack_bot_token": SecretStr("xoxb-not-ours")}, ("Slack", "bot token"),
                        "Bot User OAuth Token"),
    "missing Slack scope": (_drop_scope, {}, ("Slack", "scopes"), "reinstall it to the workspace"),
    "bot not in channel": (lambda s: s.slack.remove(CHANNEL), {}, ("Slack", "channel #order-approvals"),
                           "`/invite @holdfast` in #order-approvals"),
    "unknown approver": (lambda s: s.slack.users.pop("U0ANA"), {}, ("Slack", "user U0ANA"), "Copy member ID"),
    "unknown user group": (lambda s: s.slack.usergroups.pop("S0FINANCE"), {}, ("Slack", "user group S0FINANCE"),
                           "group id"),
    "token request refused": (_rotate_secret, {}, (SHOPIFY, "token"), "copy both again from the Dev Dashboard"),
    "missing granted scope": (_drop_grant, {}, (SHOPIFY, "scopes"), "shopify app deploy"),
    # A retired version falls forward to the oldest supported one (https://shopify.dev/docs/api/usage/versioning).
    "different served version": (None, {"shopify_api_version": "2025-10"}, (SHOPIFY, "API version"),
                                 "HOLDFAST_SHOPIFY_API_VERSION"),
    "missing webhook subscription": (_drop_subscription, {}, (SHOPIFY, "webhooks"), "holdfast serve"),
    "customer data not granted": (lambda s: s.shopify.customer_data.pop(APP), {}, (SHOPIFY, "customer data"),
                                  "protected customer data"),
    "unmigrated database": (None, {"database_url": "other"}, ("Database", "database"), "holdfast migrate"),
    "invalid policy file": (None, {"config_path": "broken"}, ("Policies", "policy file"), "holdfast check"),
}


@pytest.mark.parametrize("case", list(BROKEN))
async def test_one_thing_broken_fails_that_check_with_its_fix(stack, case, other_database_url, tmp_path):
    breaks, update, target, fix = BROKEN[case]
    if breaks:
        breaks(stack)
    if update.get("database_url") == "other":  # a fresh database nobody migrated
        update = {**update, "database_url": other_database_url}
    if update.get("config_path") == "broken":
        broken = tmp_path / "holdfast.yml"
        broken.write_text(CONFIG.read_text().replace("channel: C0APPROVALS", "channel: 42", 1))
        update = {**update, "config_path": broken}
    checks = await run_checks(doctor_settings(stack, **update))
    failures = [c for c in checks if c.status == FAIL]
    assert [(c.group, c.name) for c in failures] == [target], render(checks)
    assert fix in failures[0].fix and failures[0].detail
    # The other checks still ran: every group is there, and all but the broken one are fine.
    assert {"Database", "Policies", "Slack", SHOPIFY} <= {c.group for c in checks}
    assert len(checks) >= 8 and report(checks)["ok"] is False
    assert f"  FAIL  {target[1]}: {failures[0].detail}\n        fix: {failures[0].fix}" in render(checks)


async def _cli(stack: DevStack, *args: str) -> tuple[int, str, str]:
    settings = doctor_settings(stack)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "HOLDFAST_CONFIG": str(CONFIG),
           "SLACK_BOT_TOKEN": settings.slack_bot_token.get_secret_value(),
           "HOLDFAST_SLACK_API_URL": settings.slack_api_url, "HOLDFAST_SHOPIFY_ADMIN_URL": settings.shopify_admin_url,
           "HOLDFAST_SHOPIFY_OAUTH_URL": settings.shopify_oauth_url, "SHOPIFY_SHOP": SHOP,
           "SHOPIFY_CLIENT_ID": settings.shopify_client_id,
           "SHOPIFY_CLIENT_SECRET": settings.shopify_client_secret.get_secret_value(),
           "HOLDFAST_SECRET_KEY": stack.secret_key, "HOLDFAST_PUBLIC_URL": PUBLIC}
    env.pop("SHOPIFY_SHOPS", None)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "doctor", *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_command_exits_0_with_json_then_1_naming_the_fix(stack):
    code, out, err = await _cli(stack, "--json")
    assert code == 0, out + err
    doc = json.loads(out)  # stdout is the one JSON object, nothing else
    assert doc["ok"] is True and {c["group"] for c in doc["checks"]} >= {"Database", "Policies", "Slack", SHOPIFY}

    stack.slack.remove(CHANNEL)
    code, out, err = await _cli(stack)
    assert code == 1, out + err
    lines = out.splitlines()
    failed = next(i for i, line in enumerate(lines) if line.startswith("  FAIL  channel #order-approvals: "))
    assert lines[failed + 1] == "        fix: `/invite @holdfast` in #order-approvals"
    assert "1 failed" in lines[-1]


AGENCY = "agency-client.myshopify.com"  # a store of another organization, installed through /shopify/install


async def test_an_installed_shop_is_checked_from_the_shop_table(stack):
    from datetime import timedelta

    from bot.app import keyring
    from storage import shops
    from storage.db import transaction

    # The install's stored pair, as /shopify/callback leaves it (sealed; the sandbox knows the access token).
    stack.shopify.add_shop(AGENCY, access_token="shpat_agency_install", app=APP)
    now = stack.rt.now()
    async with transaction(stack.rt.sessions) as session:
        await shops.save_grant(session, domain=AGENCY, grant_type=shops.AUTHORIZATION_CODE, token="shpat_agency_install",
                               expires_at=now + timedelta(hours=1), refresh_token="shprt_agency",
                               refresh_expires_at=now + timedelta(days=90), scopes=None, now=now,
                               keys=keyring(stack.rt.settings))
    found = by_name(await run_checks(doctor_settings(stack)))
    group = f"Shopify {AGENCY}"
    assert all(found[(group, name)].status == OK for name in ("token", "scopes", "API version", "customer data"))
    # Its subscriptions are the app configuration's (shopify.app.toml), as the hourly check decides.
    assert "shopify.app.toml" in found[(group, "webhooks")].detail

    stack.shopify.grants[(AGENCY, APP)] -= {"write_draft_orders"}
    found = by_name(await run_checks(doctor_settings(stack)))
    assert found[(group, "scopes")].status == FAIL and "write_draft_orders" in found[(group, "scopes")].detail
    assert f"/shopify/install?shop={AGENCY}" in found[(group, "scopes")].fix  # the merchant approves them again
    assert found[(SHOPIFY, "scopes")].status == OK  # the other shop is not affected


SHIPSTATION_POLICY = """\
policies:
  - id: samples
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {customer_tag: staff}
    shipstation:
      on_flag: {hold: true, tags: [awaiting-approval]}
      on_approve: {warehouse: "%s"}
"""


@pytest.mark.parametrize(("warehouse", "keys", "status", "says"), [
    ("Samples room", None, OK, "every warehouse the policies name exists"),
    ("Sample room", None, FAIL, 'no warehouse named "Sample room"'),
    ("Samples room", f"{SHOP}=not-the-key", FAIL, "refused the API key"),
])
async def test_shipstation_is_checked_when_a_policy_uses_it(stack, tmp_path, warehouse, keys, status, says):
    path = tmp_path / "holdfast.yml"
    path.write_text(SHIPSTATION_POLICY % warehouse)
    update: dict[str, Any] = {"config_path": path}
    if keys is not None:
        update["shipstation_api_keys"] = SecretStr(keys)
    checks = [c for c in await run_checks(stack.settings().model_copy(update=update)) if c.group == "ShipStation"]
    assert checks and checks[0].status == status and says in checks[0].detail, checks
    if status == FAIL:
        assert checks[0].fix  # what to do, under the line


async def test_no_shipstation_line_without_a_policy_that_uses_it(stack):
    assert not [c for c in await run_checks(doctor_settings(stack)) if c.group == "ShipStation"]
