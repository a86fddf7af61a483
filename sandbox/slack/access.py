"""What a bot token may do: its scopes (missing_scope) and its channel memberships (not_in_channel).

The table of scopes and membership errors is sandbox/slack/reference.py, one row per method with its doc URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .reference import METHODS, kind_of, needed_scope
from .state import SlackError

if TYPE_CHECKING:
    from .core import SlackSandbox

# "chat:write.public: Send messages to channels your Slack app isn't a member of ... To use this scope, your app
# must also request chat:write." (https://docs.slack.dev/reference/scopes/chat:write.public). Public channels only.
POST_PUBLIC = "chat:write.public"


def _kind(sb: SlackSandbox, method: str, args: dict) -> str | None:
    """The kind of conversation a call is about, when its scope depends on it (None: not known, or not needed)."""
    row = METHODS.get(method)
    if row is None or not row.by_kind:
        return None
    if method == "conversations.open" and not args.get("channel"):
        # users: "If only one user is included, this creates a 1:1 DM" (else a multi-person one),
        # https://docs.slack.dev/reference/methods/conversations.open.
        users = [u for u in str(args.get("users") or "").split(",") if u]
        return "im" if len(users) <= 1 else "mpim"
    channel = sb.channels.get(str(args.get("channel") or ""))
    return kind_of(channel) if channel else None  # an unknown channel: the method answers channel_not_found


def accepted(sb: SlackSandbox, method: str, args: dict) -> str | None:
    """The scope(s) the method checks for on this call, comma separated (the x-accepted-oauth-scopes header)."""
    row = METHODS.get(method)
    if row is None:
        return None
    scope = needed_scope(method, _kind(sb, method, args))
    if scope:
        return scope
    return ",".join(dict.fromkeys(row.by_kind.values())) or None


def check_scope(sb: SlackSandbox, method: str, args: dict) -> None:
    """Refuse a call the token's scopes do not cover, in Slack's shape:
    {"ok": false, "error": "missing_scope", "needed": "chat:write", "provided": "users:read,..."}
    (the `needed` and `provided` fields of every method's response type in Slack's own SDK, e.g.
    https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/type-aliases/ChatPostMessageResponse; missing_scope
    "The token used is not granted the specific scope permissions required to complete this request",
    https://docs.slack.dev/reference/methods/chat.postMessage)."""
    scope = needed_scope(method, _kind(sb, method, args))
    if scope and scope not in sb.bot_scopes:
        raise SlackError("missing_scope", needed=scope, provided=",".join(sb.bot_scopes))


def check_member(sb: SlackSandbox, method: str, channel_id: str) -> None:
    """Refuse a call about a channel the bot is not in, as `method` documents it (reference.py)."""
    if sb.is_member(channel_id):
        return
    channel: dict[str, Any] = sb.channels[channel_id]
    if kind_of(channel) != "public":
        # Private conversations are listed only to their members ("Private channel membership is only listed when
        # the calling user, bot user, or app shares membership", https://docs.slack.dev/reference/methods/
        # users.conversations): to anyone else the id names nothing.
        raise SlackError("channel_not_found")
    if method == "chat.postMessage" and POST_PUBLIC in sb.bot_scopes:
        return
    error = METHODS[method].not_member if method in METHODS else None
    if error:
        raise SlackError(error)
