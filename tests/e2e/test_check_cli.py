"""`holdfast check` as an operator runs it: located, teaching lines; warnings exit 0, problems exit 2."""

import asyncio
import os
import re
import sys

from tests.e2e.test_processes import ROOT

WARNED = """\
policies:
  - id: big
    channel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when:
      any:
        - total_price: 5000
        - discount_percent: 100
"""
BROKEN = """\
policies:
  - id: big
    chanel: C0APPROVALS
    approvers: {users: [U0ANA]}
    when: {customer_tagg: staff}
    on_reject: cancell
"""


async def check(path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "check", "--config", str(path),
                                                cwd=ROOT, env=dict(os.environ), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode(), err.decode()


async def test_a_warning_is_printed_where_it_is_and_still_passes(tmp_path):
    path = tmp_path / "holdfast.yml"
    path.write_text(WARNED)
    code, out, err = await check(path)
    assert code == 0, err
    assert err.splitlines() == [(f"{path}:7:24: warning: policy big: when.any[0].total_price: `total_price: 5000` "
                                "matches only an amount of exactly 5000; did you mean `{gte: 5000}`? (write "
                                "`{eq: 5000}` if exactly is meant)")]  # discount_percent: 100 is not money
    assert f"{path}: 1 policies, 1 warning(s), file hash " in out

    path.write_text(WARNED.replace("total_price: 5000", "total_price: {gte: 5000}"))
    code, out, err = await check(path)
    assert code == 0 and err == "" and "warning(s)" not in out


async def test_each_problem_is_located_and_teaches_and_the_check_fails(tmp_path):
    path = tmp_path / "holdfast.yml"
    path.write_text(BROKEN)
    code, out, err = await check(path)
    assert code == 2 and out == "", out
    lines = err.splitlines()
    assert lines == [
        f"{path}:2:5: error: policy big: channel: Field required; add it, e.g. `channel: C…`",
        f"{path}:3:5: error: policy big: chanel: unknown key `chanel`; did you mean `channel`?",
        (f"{path}:5:12: error: policy big: when.customer_tagg: unknown fact `customer_tagg`; "
        "did you mean `customer_tag`?"),
        (f"{path}:6:16: error: policy big: on_reject: Input should be 'keep_hold', 'cancel' or 'release'; "
        "did you mean `cancel`?"),
        "4 problem(s).",
    ]
    assert all(re.match(rf"{re.escape(str(path))}:\d+:\d+: error: ", line) for line in lines[:-1])
    assert "nothing was changed" not in err and "Traceback" not in err


async def test_a_server_logs_the_warnings_at_start_and_on_reload(tmp_path, caplog, database_url):
    from bot.app import build_runtime
    from bot.settings import Settings

    path = tmp_path / "holdfast.yml"
    path.write_text(WARNED)
    rt = build_runtime(Settings(config_path=path, database_url=database_url))
    try:
        starting = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any(m.startswith(f"{path}:") and "did you mean `{gte: 5000}`" in m for m in starting), starting
        caplog.clear()
        assert rt.reload_policies() == []
        assert any("did you mean `{gte: 5000}`" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    finally:
        await rt.engine.dispose()
