"""Who is in which Slack user group: `usergroups.users.list`, cached with a bounded lifetime."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.schema import People


class Directory:
    """Resolves Slack user groups to members; a membership change is seen within `ttl_s`."""

    def __init__(self, slack: AsyncWebClient, *, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self._slack = slack
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def members(self, group: str) -> frozenset[str]:
        """Current members of a user group (one Slack call per group per `ttl_s`)."""
        hit = self._cache.get(group)
        if hit and self._clock() - hit[0] < self._ttl:
            return hit[1]
        async with self._locks.setdefault(group, asyncio.Lock()):
            hit = self._cache.get(group)
            if hit and self._clock() - hit[0] < self._ttl:
                return hit[1]
            reply = await self._slack.usergroups_users_list(usergroup=group)
            users = frozenset(reply.get("users") or [])
            self._cache[group] = (self._clock(), users)
            return users

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
