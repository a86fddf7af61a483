"""In-memory workspace state of the Slack sandbox: users, channels, messages, views, files."""

from __future__ import annotations

import copy
import random
import string
from dataclasses import dataclass, field
from typing import Any, Callable

# Slack trigger_ids die 3 seconds after the interaction that issued them.
TRIGGER_TTL_SECONDS = 3.0
# A response_url accepts up to 5 posts within 30 minutes.
RESPONSE_URL_TTL_SECONDS = 30 * 60.0
RESPONSE_URL_MAX_USES = 5


class SlackError(Exception):
    """A Web API refusal: answered as HTTP 200 {"ok": false, "error": code, **extra}."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class Message:
    """One channel message as the sandbox stores it (the bot is always its author)."""

    ts: str
    channel: str
    text: str
    blocks: list[dict]
    user: str
    bot_id: str
    thread_ts: str | None = None
    metadata: dict | None = None
    files: list[dict] = field(default_factory=list)
    edited_ts: str | None = None
    history: list[dict] = field(default_factory=list)

    def to_api(self, *, team_id: str, app_id: str, include_metadata: bool = True) -> dict:
        """The message as Slack returns it in history, replies and interaction payloads."""
        out: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "bot_id": self.bot_id,
            "app_id": app_id,
            "text": self.text,
            "ts": self.ts,
            "team": team_id,
        }
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.edited_ts:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.files:
            out["files"] = copy.deepcopy(self.files)
        if include_metadata and self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out


class SlackState:
    """Workspace data and the control API shared by the server and the simulator."""

    def __init__(
        self,
        *,
        bot_token: str,
        team_id: str,
        bot_user_id: str,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        team_domain: str = "holdfast-sandbox",
        app_id: str = "A0HOLDFAST",
        bot_id: str = "B0HOLDFAST",
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = clock
        self.wall_clock = wall_clock
        # Where the sandbox is reachable; set by the caller or learned from the first request.
        self.base_url: str | None = None
        self.users: dict[str, dict] = {}
        self.channels: dict[str, dict] = {}
        self.members: dict[str, set[str]] = {}  # channel id -> its members' user ids (the bot's too, once invited)
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[dict] = []
        self.responses: list[dict] = []
        self.views: dict[str, dict] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, dict] = {}
        self.files: list[dict] = []
        self.calls: list[dict] = []
        self.triggers: dict[str, dict] = {}
        self.response_urls: dict[str, dict] = {}
        self.pending_uploads: dict[str, dict] = {}
        self._last_ts = 0.0
        self._ids: set[str] = set()
        # Seeded so generated ids (block_id, view ids) are the same on every run.
        self._rng = random.Random(1729)
        self.add_user(bot_user_id, name="holdfast", real_name="holdfast", is_bot=True)

    # -- directory -------------------------------------------------------------------
    def add_user(self, user_id: str, name: str | None = None, real_name: str | None = None,
                 *, email: str | None = None, is_bot: bool = False, tz: str = "Europe/London") -> dict:
        """Register a workspace member (users.info answers with this)."""
        name = name or user_id.lower()
        real_name = real_name or name
        user = {
            "id": user_id, "team_id": self.team_id, "name": name, "deleted": False,
            "real_name": real_name, "tz": tz, "is_bot": is_bot, "is_admin": False,
            "is_app_user": False,
            "profile": {"real_name": real_name, "display_name": name,
                        "email": email or f"{name}@example.com", "team": self.team_id},
        }
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str | None = None, *, is_private: bool = False,
                    members: tuple[str, ...] | list[str] = ()) -> dict:
        """Register a channel with `members`. The bot is not one until invited (`invite`), as on Slack: an app
        posts only where someone ran /invite @app (https://docs.slack.dev/reference/methods/chat.postMessage)."""
        channel = {"id": channel_id, "name": name or channel_id.lower(), "is_channel": True,
                   "is_private": is_private, "is_im": False, "is_archived": False}
        self.channels[channel_id] = channel
        self.members[channel_id] = set(members)
        self.messages.setdefault(channel_id, [])
        return channel

    def invite(self, channel_id: str, *users: str) -> None:
        """Add members to a channel (`/invite @holdfast`; with no users: the bot)."""
        self.members.setdefault(channel_id, set()).update(users or (self.bot_user_id,))

    def remove(self, channel_id: str, *users: str) -> None:
        """Take members out of a channel (`/remove @holdfast`; with no users: the bot)."""
        self.members.setdefault(channel_id, set()).difference_update(users or (self.bot_user_id,))

    def is_member(self, channel_id: str, user: str | None = None) -> bool:
        """Whether `user` (default: the bot) is in the channel."""
        return (user or self.bot_user_id) in self.members.get(channel_id, set())

    def add_usergroup(self, usergroup_id: str, users: list[str]) -> None:
        """Register a user group (usergroups.users.list answers with its members)."""
        self.usergroups[usergroup_id] = list(users)

    def open_dm(self, user_id: str) -> tuple[str, bool]:
        """The DM channel id with a user and whether it already existed."""
        for channel in self.channels.values():
            if channel["is_im"] and channel.get("user") == user_id:
                return channel["id"], True
        channel_id = "D" + self.new_id(10)
        self.channels[channel_id] = {"id": channel_id, "is_im": True, "user": user_id,
                                     "is_channel": False, "is_private": True, "name": user_id}
        self.members[channel_id] = {self.bot_user_id, user_id}
        self.messages.setdefault(channel_id, [])
        return channel_id, False

    # -- ids and time --------------------------------------------------------------
    def new_id(self, length: int = 10) -> str:
        """A Slack-looking upper-case id body, unique within this sandbox."""
        while True:
            candidate = "".join(self._rng.choice(string.ascii_uppercase + string.digits) for _ in range(length))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def short_id(self, length: int) -> str:
        """A random mixed-case id like the block_id/action_id Slack fills in."""
        return "".join(self._rng.choice(string.ascii_letters + string.digits) for _ in range(length))

    def new_ts(self) -> str:
        """A message ts: wall-clock seconds with 6 decimals, strictly increasing."""
        now = max(self.wall_clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """Issue a trigger_id valid for 3 s (clock) and one views.open/views.push."""
        # Same shape as Slack's: "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c".
        trigger_id = (f"{self._rng.randrange(10**11, 10**12)}.{self._rng.randrange(10**10, 10**11)}."
                      f"{self._rng.randrange(16**32):032x}")
        self.triggers[trigger_id] = {"issued": self.clock(), "user": user_id, "used": False}
        return trigger_id

    def use_trigger(self, trigger_id: str | None) -> dict:
        """Exchange a trigger_id (views.open/push) or refuse as Slack does."""
        trigger = self.triggers.get(trigger_id or "")
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger["used"]:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger["issued"] > TRIGGER_TTL_SECONDS:
            raise SlackError("expired_trigger_id")
        trigger["used"] = True
        return trigger

    def issue_response_url(self, *, channel: str | None, message_ts: str | None, user: str) -> str:
        """Issue a response_url on this sandbox for an interaction."""
        if not self.base_url:
            raise RuntimeError("SlackSandbox.base_url is unknown: set sb.base_url to the server's URL")
        response_id = self.short_id(24)
        self.response_urls[response_id] = {"channel": channel, "message_ts": message_ts, "user": user,
                                           "issued": self.clock(), "uses": 0}
        return f"{self.base_url.rstrip('/')}/response/{response_id}"

    # -- messages ------------------------------------------------------------------
    def message(self, channel: str, ts: str) -> Message:
        """The message at (channel, ts); KeyError if there is none."""
        for msg in self.messages.get(channel, []):
            if msg.ts == ts:
                return msg
        raise KeyError(f"no message {ts} in {channel}")

    def find_messages(self, channel: str | None = None, text_contains: str | None = None,
                      metadata_event_type: str | None = None) -> list[Message]:
        """Messages matching every given filter, oldest first."""
        found = []
        for chan, msgs in self.messages.items():
            if channel is not None and chan != channel:
                continue
            for msg in msgs:
                if text_contains is not None and text_contains not in msg.text + _block_text(msg.blocks):
                    continue
                if metadata_event_type is not None and (msg.metadata or {}).get("event_type") != metadata_event_type:
                    continue
                found.append(msg)
        return sorted(found, key=lambda m: float(m.ts))

    def post(self, channel: str, *, text: str, blocks: list[dict], thread_ts: str | None = None,
             metadata: dict | None = None, files: list[dict] | None = None) -> Message:
        """Store a new bot message."""
        msg = Message(ts=self.new_ts(), channel=channel, text=text, blocks=blocks, user=self.bot_user_id,
                      bot_id=self.bot_id, thread_ts=thread_ts, metadata=metadata, files=files or [])
        self.messages.setdefault(channel, []).append(msg)
        return msg

    def edit(self, msg: Message, *, text: str | None, blocks: list[dict] | None, metadata: dict | None) -> None:
        """Replace a message's content, keeping the previous version in .history."""
        msg.history.append({"text": msg.text, "blocks": copy.deepcopy(msg.blocks),
                            "metadata": copy.deepcopy(msg.metadata), "edited_ts": msg.edited_ts})
        if text is not None:
            msg.text = text
        if blocks is not None:
            msg.blocks = blocks
        if metadata is not None:
            msg.metadata = metadata
        msg.edited_ts = self.new_ts()

    def delete(self, msg: Message) -> None:
        """Remove a message from its channel."""
        self.messages[msg.channel].remove(msg)

    def message_api(self, msg: Message, include_metadata: bool = True) -> dict:
        """A message as Slack serialises it."""
        return msg.to_api(team_id=self.team_id, app_id=self.app_id, include_metadata=include_metadata)

    def fill_ids(self, blocks: list[dict]) -> list[dict]:
        """Copy blocks, adding the block_id/action_id Slack generates where they are missing."""
        blocks = copy.deepcopy(blocks)
        for block in blocks:
            block.setdefault("block_id", self.short_id(4))
            elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
            for key in ("accessory", "element"):
                if isinstance(block.get(key), dict):
                    elements.append(block[key])
            for element in elements:
                if isinstance(element, dict) and element.get("type") not in ("image", "plain_text", "mrkdwn"):
                    element.setdefault("action_id", self.short_id(5))
        return blocks


def _block_text(blocks: list[dict]) -> str:
    """Every text string in blocks, for substring search."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)

