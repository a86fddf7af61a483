"""Is holdfast set up in Slack the way its policies need? In every policy channel; approvers and groups that exist.

`holdfast serve` checks the channels once at start and logs each problem with its fix (bot/app.py);
`holdfast check --online` checks channels, users and user groups and prints one line per problem
(bot/cli/policy.py). A bot posts only in channels it is a member of (chat.postMessage answers `not_in_channel`,
https://docs.slack.dev/reference/methods/chat.postMessage), so a channel nobody invited holdfast to would only show
up as dead jobs, one flagged order at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.policies import PolicySet
from bot.jobs.slack_calls import INVITE

log = logging.getLogger(__name__)
MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"  # the Slack app's manifest, at the repository root
TRIES = 3  # a 429 is waited out (Retry-After) this many times before the check gives up on that one item


@dataclass(frozen=True)
class Problem:
    """One thing to fix: where it is (policy and Slack id), what is wrong, what to do."""

    where: str
    what: str
    fix: str
    short_fix: str | None = None  # the fix without Slack markup (<#C…>), for a terminal checklist (`holdfast doctor`)

    def line(self) -> str:
        """One line for the log or the terminal."""
        return f"{self.where}: {self.what}. Fix: {self.fix}"


def channels_of(policies: PolicySet) -> dict[str, list[str]]:
    """Every channel holdfast posts to for these policies, with the policies that use it."""
    found: dict[str, list[str]] = {}
    for p in policies.policies:
        found.setdefault(p.channel, []).append(f"policy {p.id}")
        escalation = p.timers.escalate_to
        if escalation and escalation.channel:
            found.setdefault(escalation.channel, []).append(f"policy {p.id} (escalate_to)")
    return found


def people_of(policies: PolicySet) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """({user: where}, {user group: where}) for approvers, escalation DMs and managers."""
    users: dict[str, list[str]] = {}
    groups: dict[str, list[str]] = {}
    for p in policies.policies:
        for u in p.approvers.users:
            users.setdefault(u, []).append(f"policy {p.id} approvers")
        for g in p.approvers.groups:
            groups.setdefault(g, []).append(f"policy {p.id} approvers")
        for u in p.timers.escalate_to.users if p.timers.escalate_to else ():
            users.setdefault(u, []).append(f"policy {p.id} escalate_to")
    for u in policies.roles.managers.users:
        users.setdefault(u, []).append("roles.managers")
    for g in policies.roles.managers.groups:
        groups.setdefault(g, []).append("roles.managers")
    return users, groups


async def _ask(method: Callable[..., Awaitable[Any]], **args: Any) -> Any:
    """One Web API call, waiting out a 429 as Slack asks (Retry-After) up to TRIES times."""
    for attempt in range(TRIES):
        try:
            return await method(**args)
        except SlackApiError as exc:
            if exc.response.status_code != 429 or attempt == TRIES - 1:
                raise
            await asyncio.sleep(float(exc.response.headers.get("Retry-After") or 1))
    raise AssertionError("unreachable")


def _refused(where: str, exc: SlackApiError, *, fix: str) -> Problem:
    error = exc.response.get("error")
    if error == "missing_scope":
        return Problem(where, f"cannot be checked: the bot token lacks {exc.response.get('needed')}",
                       "add it to manifest.yml (oauth_config.scopes.bot) and reinstall the app")
    return Problem(where, f"Slack said {error}", fix)


async def check_channel(slack: AsyncWebClient, channel: str, used_by: list[str]) -> tuple[str, Problem | None]:
    """conversations.info on one policy channel: (its #name, or the id when unknown; the problem, if any)."""
    where = f"channel {channel} ({', '.join(used_by)})"
    try:
        info = (await _ask(slack.conversations_info, channel=channel))["channel"]
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            # A private channel the bot is not in is not found either (https://docs.slack.dev/reference/
            # methods/users.conversations: private membership is listed only to members).
            return channel, Problem(where, "not found: no such channel, or a private one holdfast is not in",
                                    f"check the id in the policy file, or {INVITE} in that channel")
        return channel, _refused(where, exc, fix="see https://docs.slack.dev/reference/methods/conversations.info")
    name = f"#{info.get('name') or channel}"
    if info.get("is_archived"):
        return name, Problem(where, f"{name} is archived", "unarchive it, or point the policy elsewhere")
    if info.get("is_member") is False:
        return name, Problem(where, f"holdfast is not a member of {name}, so it cannot post there",
                             f"{INVITE} in {name} (<#{channel}>)", short_fix=f"`{INVITE}` in {name}")
    return name, None


async def channel_problems(slack: AsyncWebClient, policies: PolicySet) -> list[Problem]:
    """conversations.info on every policy channel: missing, archived, or holdfast not a member (`is_member`)."""
    found = [await check_channel(slack, channel, used_by) for channel, used_by in channels_of(policies).items()]
    return [problem for _, problem in found if problem]


async def check_user(slack: AsyncWebClient, user: str, where: list[str]) -> tuple[str, Problem | None]:
    """users.info on one named user: (their real name, or the id; the problem: missing or deactivated)."""
    place = f"user {user} ({', '.join(where)})"
    try:
        found = (await _ask(slack.users_info, user=user))["user"]
    except SlackApiError as exc:
        return user, _refused(place, exc, fix="use the member id from their Slack profile (⋯ → Copy member ID)")
    name = found.get("real_name") or found.get("name") or user
    if found.get("deleted"):
        return name, Problem(place, "is deactivated", "name someone else in the policy file")
    return name, None


async def check_group(slack: AsyncWebClient, group: str, where: list[str]) -> tuple[int, Problem | None]:
    """usergroups.users.list on one user group: (how many members; the problem: missing or empty)."""
    place = f"user group {group} ({', '.join(where)})"
    try:
        members = (await _ask(slack.usergroups_users_list, usergroup=group)).get("users") or []
    except SlackApiError as exc:
        return 0, _refused(place, exc, fix="use the group id (S…) from the user group's page")
    if not members:
        return 0, Problem(place, "has no members, so nobody in it can approve",
                          "add people to the group, or list approvers by user id")
    return len(members), None


async def people_problems(slack: AsyncWebClient, policies: PolicySet) -> list[Problem]:
    """users.info on every named user and usergroups.users.list on every group: missing, deactivated, empty."""
    users, groups = people_of(policies)
    found = [(await check_user(slack, user, where))[1] for user, where in users.items()]
    found += [(await check_group(slack, group, where))[1] for group, where in groups.items()]
    return [problem for problem in found if problem]


def manifest_bot_scopes(path: Path = MANIFEST) -> tuple[str, ...]:
    """The bot scopes manifest.yml asks for (oauth_config.scopes.bot): what installing the app from it grants."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or ())


def scope_problem(granted: str | None, *, needed: tuple[str, ...] | None = None) -> Problem | None:
    """The bot token's scopes, as Slack lists them in the `x-oauth-scopes` header of every Web API answer
    (comma separated; Slack's SDKs read it into `response_metadata.scopes`,
    https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/WebAPICallResult), against
    manifest.yml's bot scopes; None when they cover them."""
    have = {s.strip() for s in (granted or "").split(",") if s.strip()}
    missing = [s for s in (manifest_bot_scopes() if needed is None else needed) if s not in have]
    if not missing:
        return None
    return Problem("bot token", f"lacks {', '.join(missing)}",
                   "add them to the app (OAuth & Permissions → Bot Token Scopes, as in manifest.yml) and reinstall "
                   "it to the workspace; then copy the new Bot User OAuth Token into SLACK_BOT_TOKEN")


async def log_channel_problems(slack: AsyncWebClient, policies: PolicySet) -> list[Problem]:
    """The start-up check: each channel problem logged once, as a warning with its fix; never raises."""
    try:
        problems = await channel_problems(slack, policies)
    except Exception as exc:  # noqa: BLE001 - Slack down at start must not stop holdfast starting: it is advice
        log.warning("could not check the policy channels in Slack (%s: %s); `holdfast check --online` retries it",
                    type(exc).__name__, exc)
        return []
    for problem in problems:
        log.warning("Slack set-up: %s", problem.line())
    return problems
