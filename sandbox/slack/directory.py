"""auth.test, users.info, usergroups.users.list, conversations.open/info."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable

from .access import check_member
from .args import flag, required
from .state import SlackError

if TYPE_CHECKING:
    from .core import SlackSandbox


def auth_test(sb: SlackSandbox, args: dict) -> dict:
    """auth.test: who the bot token belongs to (bolt reads bot_id, user_id, team_id)."""
    return {"url": f"https://{sb.team_domain}.slack.com/", "team": sb.team_domain, "user": "holdfast",
            "team_id": sb.team_id, "user_id": sb.bot_user_id, "bot_id": sb.bot_id,
            "is_enterprise_install": False}


def users_info(sb: SlackSandbox, args: dict) -> dict:
    """users.info"""
    user = sb.users.get(required(args, "user", "user_not_found"))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": copy.deepcopy(user)}


def usergroup_users(sb: SlackSandbox, args: dict) -> dict:
    """usergroups.users.list"""
    group = required(args, "usergroup", "invalid_arguments")
    if group not in sb.usergroups:
        raise SlackError("no_such_subteam")
    return {"users": list(sb.usergroups[group])}


def conversations_open(sb: SlackSandbox, args: dict) -> dict:
    """conversations.open: a DM with one user (the channel id starts with D)."""
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if args.get("channel"):
        channel = sb.channels.get(args["channel"])
        if channel is None:
            raise SlackError("channel_not_found")
        return {"channel": {"id": channel["id"]}, "no_op": True, "already_open": True}
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        # Group DMs are not used by holdfast; refuse rather than pretend.
        raise SlackError("not_supported")
    if users[0] not in sb.users:
        raise SlackError("user_not_found")
    channel_id, existed = sb.open_dm(users[0])
    out: dict[str, Any] = {"channel": ({"id": channel_id, "is_im": True, "user": users[0]}
                                       if flag(args, "return_im") else {"id": channel_id})}
    if existed:
        out.update(no_op=True, already_open=True)
    return out


def conversations_info(sb: SlackSandbox, args: dict) -> dict:
    """conversations.info: a public channel whether or not the bot is in it, with `is_member` (the conversation
    object's "is_member" field, which users.conversations omits "To get a full conversation object, call the
    conversations.info method", https://docs.slack.dev/reference/methods/users.conversations); a private one only
    to its members."""
    channel = sb.channels.get(required(args, "channel", "channel_not_found"))
    if channel is None:
        raise SlackError("channel_not_found")
    check_member(sb, "conversations.info", channel["id"])
    return {"channel": {**copy.deepcopy(channel), "is_member": sb.is_member(channel["id"])}}


METHODS: dict[str, Callable[[Any, dict], dict]] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "usergroups.users.list": usergroup_users,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
}
