"""chat.* and conversations.history/replies: messages in channels."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Callable

from .access import check_member
from .args import flag, int_arg, json_arg, required
from .blockkit import MAX_MESSAGE_TEXT, as_slack_messages, check_message
from .state import Message, SlackError

if TYPE_CHECKING:
    from .core import SlackSandbox


def resolve_channel(sb: SlackSandbox, value: Any) -> str:
    """A channel id from an id, a #name, or a user id (which means the bot's DM with them)."""
    if not isinstance(value, str) or not value:
        raise SlackError("channel_not_found")
    if value in sb.channels:
        return value
    if value in sb.users:
        return sb.open_dm(value)[0]
    name = value.lstrip("#")
    for channel in sb.channels.values():
        if not channel["is_im"] and channel["name"] == name:
            return channel["id"]
    raise SlackError("channel_not_found")


def channel_for(sb: SlackSandbox, value: Any, method: str) -> str:
    """The channel a call is about, if the bot may reach it there (access.check_member)."""
    channel = resolve_channel(sb, value)
    check_member(sb, method, channel)
    return channel


def message_content(sb: SlackSandbox, args: dict, *, need_content: bool) -> tuple[str | None, list | None, dict | None]:
    """(text, blocks with generated ids, metadata) checked against Slack's limits."""
    blocks = json_arg(args, "blocks", "invalid_blocks_format")
    if blocks is not None and not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    problems = check_message(blocks)
    if problems:
        raise SlackError("invalid_blocks", errors=problems,
                         response_metadata={"messages": as_slack_messages(problems)})
    text = args.get("text")
    if text is not None and not isinstance(text, str):
        text = str(text)
    if text is not None and len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    if need_content and not text and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    metadata = json_arg(args, "metadata", "invalid_metadata_format")
    if metadata is not None and not (
        isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
        and isinstance(metadata.get("event_payload", {}), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return text, (sb.fill_ids(blocks) if blocks is not None else None), metadata


def _find(sb: SlackSandbox, channel: str, ts: Any) -> Message:
    try:
        return sb.message(channel, str(ts))
    except KeyError:
        raise SlackError("message_not_found") from None


def _with_thread(sb: SlackSandbox, msg: Message, include_metadata: bool) -> dict:
    """The API form of a message plus the reply summary Slack adds to thread parents."""
    out = sb.message_api(msg, include_metadata)
    replies = [m for m in sb.messages[msg.channel] if m.thread_ts == msg.ts and m.ts != msg.ts]
    if replies:
        out.update(thread_ts=msg.ts, reply_count=len(replies), latest_reply=replies[-1].ts,
                   reply_users=sorted({m.user for m in replies}), reply_users_count=len({m.user for m in replies}))
    return out


def post_message(sb: SlackSandbox, args: dict) -> dict:
    """chat.postMessage"""
    channel = channel_for(sb, args.get("channel"), "chat.postMessage")
    text, blocks, metadata = message_content(sb, args, need_content=True)
    thread_ts = args.get("thread_ts") or None
    msg = sb.post(channel, text=text or "", blocks=blocks or [], thread_ts=thread_ts, metadata=metadata)
    return {"channel": channel, "ts": msg.ts, "message": sb.message_api(msg)}


def update(sb: SlackSandbox, args: dict) -> dict:
    """chat.update: blocks left out are kept, an empty list removes them (as in Slack)."""
    channel = channel_for(sb, args.get("channel"), "chat.update")
    msg = _find(sb, channel, required(args, "ts", "message_not_found"))
    text, blocks, metadata = message_content(sb, args, need_content=False)
    if text is None and blocks is None and metadata is None and not args.get("attachments"):
        raise SlackError("no_text")
    sb.edit(msg, text=text, blocks=blocks, metadata=metadata)
    return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": sb.message_api(msg)}


def delete(sb: SlackSandbox, args: dict) -> dict:
    """chat.delete"""
    channel = channel_for(sb, args.get("channel"), "chat.delete")
    msg = _find(sb, channel, required(args, "ts", "message_not_found"))
    sb.delete(msg)
    return {"channel": channel, "ts": msg.ts}


def post_ephemeral(sb: SlackSandbox, args: dict) -> dict:
    """chat.postEphemeral"""
    channel = channel_for(sb, args.get("channel"), "chat.postEphemeral")
    user = args.get("user")
    if user not in sb.users:
        raise SlackError("user_not_found")
    text, blocks, _ = message_content(sb, args, need_content=True)
    message_ts = sb.new_ts()
    sb.ephemerals.append({"channel": channel, "user": user, "text": text or "", "blocks": blocks or [],
                          "thread_ts": args.get("thread_ts"), "message_ts": message_ts})
    return {"message_ts": message_ts}


def get_permalink(sb: SlackSandbox, args: dict) -> dict:
    """chat.getPermalink"""
    channel = channel_for(sb, args.get("channel"), "chat.getPermalink")
    msg = _find(sb, channel, required(args, "message_ts", "message_not_found"))
    link = f"https://{sb.team_domain}.slack.com/archives/{channel}/p{msg.ts.replace('.', '')}"
    if msg.thread_ts and msg.thread_ts != msg.ts:
        link += f"?thread_ts={msg.thread_ts}&cid={channel}"
    return {"channel": channel, "permalink": link}


def _cursor(ts: str) -> str:
    # Slack's history cursors are base64("next_ts:<ts without the dot>").
    return base64.b64encode(f"next_ts:{ts.replace('.', '')}".encode()).decode()


def _from_cursor(cursor: str) -> float:
    try:
        raw = base64.b64decode(cursor).decode()
        digits = raw.split("next_ts:", 1)[1]
        return float(f"{digits[:-6]}.{digits[-6:]}")
    except (ValueError, IndexError, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None


def _page(items: list[Message], args: dict, newest_first: bool) -> tuple[list[Message], str]:
    """Apply limit/cursor; return the page and the next cursor ("" at the end)."""
    limit = max(1, min(int_arg(args, "limit", 100), 999))
    if args.get("cursor"):
        edge = _from_cursor(str(args["cursor"]))
        items = [m for m in items if (float(m.ts) <= edge if newest_first else float(m.ts) >= edge)]
    page, rest = items[:limit], items[limit:]
    return page, (_cursor(rest[0].ts) if rest else "")


def history(sb: SlackSandbox, args: dict) -> dict:
    """conversations.history: top-level messages newest first."""
    channel = required(args, "channel", "channel_not_found")
    if channel not in sb.channels:
        raise SlackError("channel_not_found")
    check_member(sb, "conversations.history", channel)
    inclusive = flag(args, "inclusive")
    oldest = float(args.get("oldest") or 0)
    latest = float(args.get("latest") or "inf")
    top = [m for m in sb.messages[channel] if m.thread_ts in (None, m.ts)]
    kept = [m for m in top if (oldest <= float(m.ts) if inclusive else oldest < float(m.ts))
            and (float(m.ts) <= latest if inclusive else float(m.ts) < latest)]
    kept.sort(key=lambda m: float(m.ts), reverse=True)
    page, next_cursor = _page(kept, args, newest_first=True)
    include = flag(args, "include_all_metadata")
    return {"messages": [_with_thread(sb, m, include) for m in page], "has_more": bool(next_cursor),
            "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0,
            "response_metadata": {"next_cursor": next_cursor}}


def replies(sb: SlackSandbox, args: dict) -> dict:
    """conversations.replies: the parent, then its replies oldest first."""
    channel = required(args, "channel", "channel_not_found")
    if channel not in sb.channels:
        raise SlackError("channel_not_found")
    check_member(sb, "conversations.replies", channel)
    ts = str(required(args, "ts", "thread_not_found"))
    try:
        parent = sb.message(channel, ts)
    except KeyError:
        raise SlackError("thread_not_found") from None
    thread = [parent] + sorted((m for m in sb.messages[channel] if m.thread_ts == ts and m.ts != ts),
                               key=lambda m: float(m.ts))
    page, next_cursor = _page(thread, args, newest_first=False)
    include = flag(args, "include_all_metadata")
    return {"messages": [_with_thread(sb, m, include) for m in page], "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor}}


METHODS: dict[str, Callable[[Any, dict], dict]] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "conversations.history": history,
    "conversations.replies": replies,
}
