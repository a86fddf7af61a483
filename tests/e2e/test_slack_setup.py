"""A Slack workspace set up wrong, as the operator meets it: a policy channel holdfast was never invited to.

The sandbox answers as Slack does (not_in_channel, channel_not_found, is_member: sandbox/slack/reference.py), so
holdfast must say so at start, in `holdfast check --online`, and in the dead job of a post that cannot land.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import pytest

from bot.approvals.effects import JobKind, dm_key
from bot.cli.devstack import BOT_TOKEN, CHANNEL, ROOT, DevStack
from bot.cli.jobs import retry
from sandbox.slack.reference import manifest_bot_scopes
from storage.db import transaction
from tests.e2e.conftest import STAFF

INVITE = f"/invite @holdfast in <#{CHANNEL}>"
STARTUP = "bot.slack_preflight"


async def _until(predicate, timeout: float = 10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := predicate()):
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)
    return found


async def test_a_post_where_holdfast_is_not_a_member_dies_at_once_and_says_how_to_fix_it(database_url, caplog):
    async with DevStack(database_url=database_url) as stack:
        stack.slack.remove(CHANNEL)  # someone ran /remove @holdfast
        order = await stack.place_order(**STAFF)
        await stack.settle()
        req = await stack.request_for(order)
        assert req is not None and req.message_ts is None and stack.slack.messages[CHANNEL] == []
        [dead] = await stack.jobs(status="dead")
        assert dead.kind == "slack.post_request" and dead.attempts == 1  # not retried: it cannot succeed
        assert INVITE in dead.last_error and "not_in_channel" in dead.last_error
        [row] = [e for e in await stack.audit_trail(req.id) if e.kind == "job.dead"]
        assert INVITE in row.data["error"] and row.data["job_id"] == dead.id
        assert any(INVITE in r.getMessage() and "(dead)" in r.getMessage() for r in caplog.records)

        # The fix it names works: invite the app, re-run the job; the request is posted once.
        stack.slack.invite(CHANNEL)
        assert await retry(stack.settings(), dead.id)
        stack.rt.wake_worker()
        await stack.settle()
        assert (await stack.request_for(order)).message_ts
        assert len([m for m in stack.slack.messages[CHANNEL] if not m.thread_ts]) == 1


async def _dm(stack: DevStack, user: str, text: str) -> None:
    async with transaction(stack.rt.sessions) as session:
        stack.rt.enqueue(session, JobKind.DM, key=dm_key(user), payload={"user": user, "text": text})
    stack.rt.wake_worker()
    await stack.settle()


@pytest.mark.parametrize("scopes", ["manifest", "without im:history"])
async def test_a_dm_whose_reply_was_lost_is_found_in_the_dm_not_sent_twice(database_url, scopes):
    # The retry reads the DM's history (conversations.history on an IM), which needs im:history: with the
    # manifest's scopes it finds the first send; a token without that scope could not look, and says so.
    async with DevStack(database_url=database_url) as stack:
        if scopes != "manifest":
            stack.slack.bot_scopes = tuple(s for s in manifest_bot_scopes() if s != "im:history")
        stack.slack.faults.add("lost_reply", method="chat.postMessage", times=1)
        await _dm(stack, "U0ANA", "Your request #1001 was approved")
        [dm] = [c for c, ch in stack.slack.channels.items() if ch.get("is_im") and ch.get("user") == "U0ANA"]
        assert [m.text for m in stack.slack.messages[dm]] == ["Your request #1001 was approved"]
        [job] = [j for j in await stack.jobs() if j.kind == JobKind.DM]
        if scopes == "manifest":
            assert job.status == "done" and job.attempts == 2
        else:
            assert job.status == "dead" and "lacks im:history" in job.last_error


async def test_start_up_logs_each_policy_channel_holdfast_is_not_in_once(database_url, caplog):
    caplog.set_level(logging.WARNING, logger=STARTUP)
    stack = DevStack(database_url=database_url)
    stack.slack.remove(CHANNEL)
    async with stack:
        found = await _until(lambda: [r for r in caplog.records if r.name == STARTUP])
        await asyncio.sleep(0.2)  # nothing more comes
        [record] = [r for r in caplog.records if r.name == STARTUP]
        assert record is found[0]
        line = record.getMessage()
        assert "holdfast is not a member of #order-approvals" in line and "policy staff-orders" in line
        assert f"/invite @holdfast in #order-approvals (<#{CHANNEL}>)" in line
    caplog.clear()
    async with DevStack(database_url=database_url) as stack:  # invited: nothing to say
        await _until(lambda: any(c["method"] == "conversations.info" for c in stack.slack.calls))
        await asyncio.sleep(0.2)
        assert not [r for r in caplog.records if r.name == STARTUP]


POLICIES = """
version: 1
roles:
  managers:
    users: [U0BEN]
policies:
  - id: staff-orders
    channel: C0APPROVALS
    approvers:
      users: [U0ANA, U0GONE]
      groups: [S0FINANCE, S0NONE]
    when: {customer_tag: staff}
    timers:
      escalate_after: 1h
      escalate_to: {channel: C0NOWHERE}
"""


async def _check_online(stack: DevStack, config: Path) -> tuple[int, str, str]:
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "HOLDFAST_SLACK_API_URL": f"http://127.0.0.1:{stack.slack_port}/api/"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "check", "--online", "--config",
                                                str(config), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_check_online_names_each_problem_with_its_fix_and_passes_once_fixed(database_url, tmp_path):
    config = tmp_path / "holdfast.yml"
    config.write_text(POLICIES)
    async with DevStack(database_url=database_url) as stack:
        stack.slack.remove(CHANNEL)
        stack.slack.add_usergroup("S0FINANCE", [])
        code, out, err = await _check_online(stack, config)
        problems = [line for line in err.splitlines() if ". Fix: " in line]
        assert code == 1 and len(problems) == 5, err
        assert f"channel {CHANNEL} (policy staff-orders): holdfast is not a member of #order-approvals" in err
        assert f"/invite @holdfast in #order-approvals (<#{CHANNEL}>)" in err
        assert "channel C0NOWHERE (policy staff-orders (escalate_to)): not found" in err
        assert "user U0GONE (policy staff-orders approvers): Slack said user_not_found" in err
        assert "user group S0NONE (policy staff-orders approvers): Slack said no_such_subteam" in err
        assert "user group S0FINANCE (policy staff-orders approvers): has no members" in err

        stack.slack.invite(CHANNEL)
        stack.slack.add_channel("C0NOWHERE", name="escalations", members=[stack.slack.bot_user_id])
        stack.slack.add_user("U0GONE", name="gone")
        stack.slack.users["U0GONE"]["deleted"] = True
        stack.slack.add_usergroup("S0FINANCE", ["U0BEN"])
        stack.slack.add_usergroup("S0NONE", ["U0ANA"])
        code, out, err = await _check_online(stack, config)
        # Led by where the id is written (file:line:col), so an editor can jump to it.
        assert code == 1 and err.splitlines()[0] == (f"{config}:10:22: user U0GONE (policy staff-orders approvers): "
                                                     "is deactivated. Fix: name someone else in the policy file")
        stack.slack.users["U0GONE"]["deleted"] = False
        code, out, err = await _check_online(stack, config)
        assert code == 0, err
        assert "holdfast is in all 2 policy channel(s); 3 user(s) and 2 user group(s) found" in out
