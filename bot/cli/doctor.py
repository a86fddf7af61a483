"""`holdfast doctor`: a pre-flight check of a configured installation, one line per check, each failure with its fix.

It asks the real services what `holdfast serve` will meet: the database (bot/cli/dbcheck.py), the policy file,
Slack (bot/cli/doctor_slack.py: token, scopes, channels, approvers) and every shop (bot/cli/doctor_shopify.py:
token, scopes, API version, webhook subscriptions, protected customer data). A check that fails does not stop the
others; only the checks that depend on it (Slack's channels need a valid token) are left out, and its detail says
so. It changes nothing, except that a shop installed through /shopify/install may have its token renewed (and
stored) as any holdfast process would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Any

from bot.cli.doctor_checks import FAIL, OK, WARN, Check, failed, passed, split_sentence
from bot.settings import Settings

__all__ = ["FAIL", "OK", "WARN", "Check", "add_parsers", "render", "report", "run_checks"]

async def database_check(settings: Settings) -> Check:
    """Reachable and migrated to the newest revision this holdfast ships (bot/cli/dbcheck.py says why not)."""
    from bot.cli.dbcheck import database_problem

    problem = await database_problem(settings.database_url)
    if problem is None:
        return passed("Database", "database", "reachable and migrated to this holdfast's newest revision")
    what, fix = split_sentence(problem)
    return failed("Database", "database", what, fix)


def policy_check(settings: Settings) -> tuple[Any, Check]:
    """(the policies or None, the check): the policy file read and validated as `holdfast serve` reads it."""
    from bot.approvals.policies import PolicyError
    from bot.policy_file import load_file

    path = settings.config_path
    try:
        policies = load_file(path)
    except PolicyError as exc:
        shown = "; ".join(exc.problems[:3]) + (f" (and {len(exc.problems) - 3} more)" if len(exc.problems) > 3 else "")
        return None, failed("Policies", "policy file", f"{shown}; Slack channels and approvers not checked",
                            f"fix {path} (`holdfast check --config {path}` lists every problem)")
    enabled = sum(1 for p in policies.policies if p.enabled)
    return policies, passed("Policies", "policy file", f"{path}: {len(policies.policies)} policies ({enabled} "
                                                       f"enabled), hash {policies.file_hash[:12]}")


async def run_checks(settings: Settings) -> list[Check]:
    """Every check, in checklist order; never raises for what an operator can fix."""
    # Imported here: `holdfast --help` and every other command build the parser, which imports this module.
    from bot.cli.doctor_shipstation import shipstation_checks
    from bot.cli.doctor_shopify import shopify_checks
    from bot.cli.doctor_slack import slack_checks

    database = await database_check(settings)
    policies, policy = policy_check(settings)
    return [database, policy, *await slack_checks(settings, policies),
            *await shopify_checks(settings, database_ok=database.ok), *await shipstation_checks(settings, policies)]


def render(checks: list[Check]) -> str:
    """The checklist: a heading per group, one line per check, the fix under each failure or warning that has one."""
    lines: list[str] = []
    group = None
    for check in checks:
        if check.group != group:
            group = check.group
            lines.append(group)
        lines.append(f"  {check.status:<5} {check.name}: {check.detail}")
        if check.fix and check.status != OK:
            lines.append(f"        fix: {check.fix}")
    failures = sum(1 for c in checks if c.status == FAIL)
    warnings = sum(1 for c in checks if c.status == WARN)
    lines.append(f"{len(checks)} checks: {len(checks) - failures - warnings} ok, {failures} failed, {warnings} "
                 f"warning(s)" + ("" if failures else "; holdfast is ready to serve"))
    return "\n".join(lines)


def report(checks: list[Check]) -> dict[str, Any]:
    """The --json form: {"ok": bool, "checks": [{"group", "name", "ok", "detail", "fix"}]}."""
    return {"ok": all(c.ok for c in checks), "checks": [c.as_json() for c in checks]}


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Print the checklist (or --json); 1 when any check failed."""
    if args.poll:
        settings = settings.model_copy(update={"poll": True})
    checks = asyncio.run(run_checks(settings))
    print(json.dumps(report(checks)) if args.json else render(checks))
    return 0 if all(c.ok for c in checks) else 1


def add_parsers(sub: Any, settings_of: Callable[[argparse.Namespace], Settings]) -> None:
    """Register `holdfast doctor`."""
    d = sub.add_parser("doctor", help="check the installation: database, policy file, Slack and every shop, each "
                                      "failure with its fix (exit 1 when any check fails)")
    d.add_argument("--config", help="policy file (default: HOLDFAST_CONFIG or holdfast.yml)")
    d.add_argument("--json", action="store_true",
                   help="print one JSON object {ok, checks: [{group, name, ok, detail, fix}]} (default: a checklist)")
    d.add_argument("--poll", action="store_true", help="check for `holdfast serve --poll`: no webhook subscriptions "
                                                       "needed (default: off, or HOLDFAST_POLL)")
    d.set_defaults(func=lambda args: cmd_doctor(args, settings_of(args)))

