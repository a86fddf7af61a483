"""Who is in which Slack user group: `usergroups.users.list`, cached with a bounded lifetime.

A group Slack says cannot be resolved (deleted or mistyped: `no_such_subteam`; a plan without user groups:
`paid_teams_only`, https://docs.slack.dev/reference/methods/usergroups.users.list) counts as nobody, for its own
policy only: everything else (other policies, /approvals, App Home) goes on, and the failure is remembered with its
reason for the request's notice, the audit log and `holdfast check --online`. Other errors (a 429, a timeout) are
not about the group and are raised as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.schema import People

log = logging.getLogger(__name__)
# Errors that are about the group (or the workspace's plan), not about the moment: retrying will not help.
UNRESOLVABLE = frozenset({"no_such_subteam", "subteam_not_found", "invalid_usergroup", "paid_teams_only",
                          "plan_upgrade_required", "missing_scope", "not_allowed_token_type"})


class Directory:
    """Resolves Slack user groups to members; a membership change is seen within `ttl_s`."""

    def __init__(self, slack: AsyncWebClient, *, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self._slack = slack
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.unresolved: dict[str, str] = {}  # group -> Slack's reason, while it cannot be resolved

    async def members(self, group: str) -> frozenset[str]:
        """Current members of a user group (one Slack call per group per `ttl_s`)."""
        hit = self._cache.get(group)
        if hit and self._clock() - hit[0] < self._ttl:
            return hit[1]
        async with self._locks.setdefault(group, asyncio.Lock()):
            hit = self._cache.get(group)
            if hit and self._clock() - hit[0] < self._ttl:
                return hit[1]
            try:
                reply = await self._slack.usergroups_users_list(usergroup=group)
            except SlackApiError as exc:
                error = str((exc.response.data or {}).get("error") if exc.response is not None else "") or "error"
                if error not in UNRESOLVABLE:
                    raise
                if group not in self.unresolved:
                    log.warning("user group %s cannot be resolved (%s): it counts as nobody for the policies that "
                                "name it; fix the policy file (holdfast check --online lists every such group)",
                                group, error)
                self.unresolved[group] = error
                self._cache[group] = (self._clock(), frozenset())
                return frozenset()
            users = frozenset(reply.get("users") or [])
            self.unresolved.pop(group, None)
            self._cache[group] = (self._clock(), users)
            return users

    async def problems(self, people: People) -> list[str]:
        """The groups of `people` that cannot be resolved, each as "group S0… (reason)"."""
        for group in people.groups:
            await self.members(group)
        return [f"group {g} ({self.unresolved[g]})" for g in people.groups if g in self.unresolved]

    async def includes(self, people: People, user: str) -> bool:
        """True when `user` is listed by id or is a member of one of the groups."""
        if user in people.users:
            return True
        for group in people.groups:
            if user in await self.members(group):
                return True
        return False

    async def expand(self, people: People) -> list[str]:
        """Every user id named directly or through a group (for mentions and DMs)."""
        out = list(dict.fromkeys(people.users))
        for group in people.groups:
            out += [u for u in sorted(await self.members(group)) if u not in out]
        return out
