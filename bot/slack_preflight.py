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
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.policies import PolicySet
from bot.jobs.slack_calls import INVITE

log = logging.getLogger(__name__)
TRIES = 3  # a 429 is waited out (Retry-After) this many times before the check gives up on that one item


@dataclass(frozen=True)
class Problem:
    """One thing to fix: where it is (policy and Slack id), what is wrong, what to do."""

    where: str
    what: str
    fix: str

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


async def channel_problems(slack: AsyncWebClient, policies: PolicySet) -> list[Problem]:
    """conversations.info on every policy channel: missing, archived, or holdfast not a member (`is_member`)."""
    problems = []
    for channel, users in channels_of(policies).items():
        where = f"channel {channel} ({', '.join(users)})"
        try:
            info = (await _ask(slack.conversations_info, channel=channel))["channel"]
        except SlackApiError as exc:
            if exc.response.get("error") == "channel_not_found":
                # A private channel the bot is not in is not found either (https://docs.slack.dev/reference/
                # methods/users.conversations: private membership is listed only to members).
                problems.append(Problem(where, "not found: no such channel, or a private one holdfast is not in",
                                        f"check the id in the policy file, or {INVITE} in that channel"))
            else:
                problems.append(_refused(where, exc, fix="see https://docs.slack.dev/reference/methods/"
                                                         "conversations.info"))
            continue
        name = f"#{info.get('name') or channel}"
        if info.get("is_archived"):
            problems.append(Problem(where, f"{name} is archived", "unarchive it, or point the policy elsewhere"))
        elif info.get("is_member") is False:
            problems.append(Problem(where, f"holdfast is not a member of {name}, so it cannot post there",
                                    f"{INVITE} in {name} (<#{channel}>)"))
    return problems


async def people_problems(slack: AsyncWebClient, policies: PolicySet) -> list[Problem]:
    """users.info on every named user and usergroups.users.list on every group: missing, deactivated, empty."""
    problems = []
    users, groups = people_of(policies)
    for user, where in users.items():
        place = f"user {user} ({', '.join(where)})"
        try:
            found = (await _ask(slack.users_info, user=user))["user"]
        except SlackApiError as exc:
            problems.append(_refused(place, exc, fix="use the member id from their Slack profile (⋯ → Copy member ID)"))
            continue
        if found.get("deleted"):
            problems.append(Problem(place, "is deactivated", "name someone else in the policy file"))
    for group, where in groups.items():
        place = f"user group {group} ({', '.join(where)})"
        try:
            members = (await _ask(slack.usergroups_users_list, usergroup=group)).get("users") or []
        except SlackApiError as exc:
            problems.append(_refused(place, exc, fix="use the group id (S…) from the user group's page"))
            continue
        if not members:
            problems.append(Problem(place, "has no members, so nobody in it can approve",
                                    "add people to the group, or list approvers by user id"))
    return problems


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
