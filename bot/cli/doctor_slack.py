"""`holdfast doctor`'s Slack checks: the bot token, its scopes, every policy channel, approver and user group.

The token and the per-item checks are `holdfast check --online`'s own (bot/cli/online.py, bot/slack_preflight.py);
this module only turns their answers into checklist lines, an ok line included for what is fine.
"""

from __future__ import annotations

import aiohttp

from bot.approvals.policies import PolicySet
from bot.cli.doctor_checks import Check, failed, passed, warned
from bot.cli.online import TOKEN_FIX, TOKEN_UNSET, TOKEN_UNSET_FIX, auth_test, slack_client
from bot.settings import Settings
from bot.slack_preflight import (
    Problem,
    channels_of,
    check_channel,
    check_group,
    check_user,
    manifest_bot_scopes,
    people_of,
    scope_problem,
)

GROUP = "Slack"
# The token's scopes, on every Web API answer (bot/slack_preflight.py scope_problem says where Slack documents it).
SCOPES_HEADER = "x-oauth-scopes"


def _problem(name: str, problem: Problem) -> Check:
    return failed(GROUP, name, problem.what, problem.short_fix or problem.fix)


def _scopes(granted: str | None) -> Check:
    if granted is None:  # Slack sends it on every Web API answer; a proxy in between may have dropped it
        return warned(GROUP, "scopes", f"Slack did not list the token's scopes (no {SCOPES_HEADER} header)",
                      "compare OAuth & Permissions → Bot Token Scopes with manifest.yml by hand")
    problem = scope_problem(granted)
    if problem:
        return _problem("scopes", problem)
    return passed(GROUP, "scopes", f"the token has all {len(manifest_bot_scopes())} bot scopes manifest.yml asks for")


def _uses(where: list[str]) -> str:
    return where[0] if len(where) == 1 else f"{where[0]} and {len(where) - 1} more"


async def _policy_checks(slack, policies: PolicySet) -> list[Check]:
    out = []
    for channel, used_by in channels_of(policies).items():
        name, problem = await check_channel(slack, channel, used_by)
        out.append(_problem(f"channel {name}", problem) if problem else
                   passed(GROUP, f"channel {name}", f"holdfast is a member ({_uses(used_by)})"))
    users, groups = people_of(policies)
    for user, where in users.items():
        name, problem = await check_user(slack, user, where)
        out.append(_problem(f"user {user}", problem) if problem else
                   passed(GROUP, f"user {user}", f"{name} ({_uses(where)})"))
    for group, where in groups.items():
        members, problem = await check_group(slack, group, where)
        out.append(_problem(f"user group {group}", problem) if problem else
                   passed(GROUP, f"user group {group}", f"{members} member(s) ({_uses(where)})"))
    return out


async def slack_checks(settings: Settings, policies: PolicySet | None) -> list[Check]:
    """The token (auth.test), its scopes (the answer's x-oauth-scopes), then, with valid policies, every channel,
    user and user group they name. A refused token leaves the rest out: Slack would refuse every call."""
    if not settings.slack_bot_token.get_secret_value():
        return [failed(GROUP, "bot token", f"{TOKEN_UNSET}; scopes, channels and approvers not checked",
                       TOKEN_UNSET_FIX)]
    try:
        async with aiohttp.ClientSession() as http:
            slack = slack_client(settings, http)
            answer, error = await auth_test(slack)
            if answer is None:
                return [failed(GROUP, "bot token", f"SLACK_BOT_TOKEN: Slack said {error}; scopes, channels and "
                                                   "approvers not checked", TOKEN_FIX)]
            out = [passed(GROUP, "bot token", f"valid: @{answer.get('user')} in {answer.get('team')} "
                                              f"({answer.get('team_id')})"),
                   _scopes(answer.headers.get(SCOPES_HEADER))]
            if policies is not None:
                out += await _policy_checks(slack, policies)
            return out
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return [failed(GROUP, "Web API", f"cannot reach Slack at {settings.slack_api_url} ({type(exc).__name__}: "
                                         f"{exc})".replace(": )", ")"),
                       "check SLACK_API_URL and this machine's network access to Slack, then run it again")]
