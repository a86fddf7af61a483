"""Slack's method reference, as the sandbox enforces it: bot scopes, rate tier and what a non-member gets.

One row per Web API method the sandbox implements, written from that method's page on docs.slack.dev (the URL is
in the row). Three behaviours hang off this table:
- scopes (server.py): a bot token without the method's scope gets `missing_scope` with `needed` and `provided`;
- rate tiers (ratelimit.py): SLACK_LIMITS is derived from the tiers here;
- membership (membership.py): what a bot that is not in the channel gets back.
tests/contract/test_slack_scopes.py reads this same table to check that manifest.yml asks for exactly the scopes
of the methods holdfast calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

DOCS = "https://docs.slack.dev/reference/methods/"
# Conversation kinds. Scopes of the Conversations API depend on the kind of conversation the call is about:
# "This Conversations API method's required scopes depend on the type of channel-like object you're working
# with. You only need the scopes corresponding to that conversation type"
# (https://api.slack.com/methods/conversations.members, the same note on every conversations.* page).
KINDS = ("public", "private", "im", "mpim")
# The special tier of chat.postMessage: "generally allows posting one message per second per channel" with
# "short bursts >1 allowed" (https://docs.slack.dev/apis/web-api/rate-limits).
SPECIAL = "special"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def _per_kind(prefix_public: str, prefix_private: str, suffix: str) -> dict[str, str]:
    """{kind: scope} for the channels/groups/im/mpim family of one verb ("history", "read", "write")."""
    return {"public": f"{prefix_public}:{suffix}", "private": f"{prefix_private}:{suffix}",
            "im": f"im:{suffix}", "mpim": f"mpim:{suffix}"}


@dataclass(frozen=True)
class Method:
    """One Web API method: its page, its rate tier, its bot-token scope(s) and its answer to a non-member."""

    doc: str
    tier: int | str  # 1-4, or SPECIAL
    scope: str | None = None  # the one bot scope, whatever the conversation
    by_kind: dict[str, str] = field(default_factory=dict)  # or one scope per conversation kind
    # A bot outside a public channel: the error it gets (None: the method does not need membership). A private
    # channel the bot is not in is invisible to it: channel_not_found for every method (see membership.py).
    not_member: str | None = None
    app_token: bool = False  # called with the app-level xapp- token, not the bot token


METHODS: dict[str, Method] = {
    # Bot token: chat:write; "Special rate limits apply"; errors: not_in_channel "Cannot post user messages to a
    # channel they are not in", unless the app has chat:write.public (public channels only: "Send messages to
    # channels your Slack app isn't a member of", https://docs.slack.dev/reference/scopes/chat:write.public).
    "chat.postMessage": Method(DOCS + "chat.postMessage", SPECIAL, "chat:write", not_member="not_in_channel"),
    # chat:write, Tier 3; its errors list no not_in_channel (cant_update_message, channel_not_found).
    "chat.update": Method(DOCS + "chat.update", 3, "chat:write"),
    "chat.delete": Method(DOCS + "chat.delete", 3, "chat:write"),
    # chat:write, Tier 4; errors: not_in_channel, user_not_in_channel.
    "chat.postEphemeral": Method(DOCS + "chat.postEphemeral", 4, "chat:write", not_member="not_in_channel"),
    # "No scopes required"; special tier (not limited here: holdfast does not call it).
    "chat.getPermalink": Method(DOCS + "chat.getPermalink", SPECIAL),
    # channels:history / groups:history / im:history / mpim:history, Tier 3 for internal apps; "Bot token:
    # relevant *:history scope: any conversation the relevant bot is a member of"; not_in_channel: "The token used
    # does not have access to the proper channel. Only user tokens can access public channels they are not in."
    "conversations.history": Method(DOCS + "conversations.history", 3, not_member="not_in_channel",
                                    by_kind=_per_kind("channels", "groups", "history")),
    # The same scopes and tier; its errors list channel_not_found, not not_in_channel.
    "conversations.replies": Method(DOCS + "conversations.replies", 3, not_member="channel_not_found",
                                    by_kind=_per_kind("channels", "groups", "history")),
    # Bot token: channels:manage, groups:write, im:write, mpim:write (a DM with one user: im:write); Tier 3.
    "conversations.open": Method(DOCS + "conversations.open", 3, by_kind=_per_kind("channels", "groups", "write")
                                 | {"public": "channels:manage"}),
    # channels:read / groups:read / im:read / mpim:read, Tier 3. A public channel answers with `is_member`
    # (users.conversations "omit[s] the is_member ... fields ... To get a full conversation object, call the
    # conversations.info method", https://docs.slack.dev/reference/methods/users.conversations).
    "conversations.info": Method(DOCS + "conversations.info", 3, by_kind=_per_kind("channels", "groups", "read")),
    "users.info": Method(DOCS + "users.info", 4, "users:read"),
    "usergroups.users.list": Method(DOCS + "usergroups.users.list", 2, "usergroups:read"),
    # views.*: "No scopes required", Tier 4.
    "views.open": Method(DOCS + "views.open", 4),
    "views.push": Method(DOCS + "views.push", 4),
    "views.update": Method(DOCS + "views.update", 4),
    "views.publish": Method(DOCS + "views.publish", 4),
    # files:write, Tier 4; completeUploadExternal: not_in_channel "User/bot membership is required for the
    # specified channel."
    "files.getUploadURLExternal": Method(DOCS + "files.getUploadURLExternal", 4, "files:write"),
    "files.completeUploadExternal": Method(DOCS + "files.completeUploadExternal", 4, "files:write",
                                           not_member="not_in_channel"),
    # "No scopes required"; special tier.
    "auth.test": Method(DOCS + "auth.test", SPECIAL),
    # "No scopes required" of the call itself, but it takes an app-level token, which needs connections:write
    # (https://docs.slack.dev/reference/scopes/connections.write); Tier 3 on docs.slack.dev (Tier 1 on the
    # older api.slack.com page).
    "apps.connections.open": Method(DOCS + "apps.connections.open", 3, app_token=True),
}


def kind_of(channel: dict) -> str:
    """The conversation kind of a sandbox channel record."""
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    return "private" if channel.get("is_private") else "public"


def needed_scope(method: str, kind: str | None) -> str | None:
    """The bot scope `method` needs on a conversation of `kind` (None: no scope, or the kind is not known yet)."""
    row = METHODS.get(method)
    if row is None:
        return None
    if row.by_kind:
        return row.by_kind.get(kind) if kind else None
    return row.scope


def scopes_for(method: str, kinds: set[str] | None = None) -> set[str]:
    """Every bot scope `method` needs when called on conversations of `kinds` (all kinds when None)."""
    row = METHODS[method]
    if row.by_kind:
        return {row.by_kind[k] for k in (kinds if kinds is not None else KINDS)}
    return {row.scope} if row.scope else set()


def manifest_bot_scopes(path: Path = MANIFEST) -> tuple[str, ...]:
    """The bot scopes an app installed from `path` is granted (oauth_config.scopes.bot)."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or ())
