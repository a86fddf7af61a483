"""The external upload flow: files.getUploadURLExternal, the upload POST, files.completeUploadExternal."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any, Callable

from .args import int_arg, json_arg, required
from .chat import channel_for
from .state import SlackError

if TYPE_CHECKING:
    from .core import SlackSandbox


def get_upload_url(sb: SlackSandbox, args: dict) -> dict:
    """files.getUploadURLExternal: an upload URL on the sandbox itself."""
    filename = required(args, "filename", "invalid_arguments")
    length = int_arg(args, "length", -1)
    if length < 0:
        raise SlackError("invalid_arguments")
    file_id = "F" + sb.new_id(10)
    sb.pending_uploads[file_id] = {"filename": filename, "length": length, "content": None,
                                   "alt_txt": args.get("alt_txt"), "snippet_type": args.get("snippet_type")}
    base = (sb.base_url or "").rstrip("/")
    return {"upload_url": f"{base}/upload/{file_id}", "file_id": file_id}


def receive_upload(sb: SlackSandbox, file_id: str, content: bytes) -> bool:
    """Store bytes POSTed to an upload URL; False if the URL is unknown."""
    pending = sb.pending_uploads.get(file_id)
    if pending is None:
        return False
    pending["content"] = content
    return True


def complete_upload(sb: SlackSandbox, args: dict) -> dict:
    """files.completeUploadExternal: shares uploaded files, with initial_comment as the message."""
    entries = json_arg(args, "files", "invalid_arguments")
    if not isinstance(entries, list) or not entries:
        raise SlackError("invalid_arguments")
    channel_ids = [c for c in str(args.get("channels") or "").split(",") if c]
    if args.get("channel_id"):
        channel_ids.insert(0, args["channel_id"])
    channel_ids = [channel_for(sb, c, "files.completeUploadExternal") for c in channel_ids]
    done = []
    for entry in entries:
        pending = sb.pending_uploads.get(entry.get("id") if isinstance(entry, dict) else None)
        if pending is None or pending["content"] is None:
            raise SlackError("file_not_found")
        done.append((entry, pending))
    shared = []
    for entry, pending in done:
        file_id = entry["id"]
        del sb.pending_uploads[file_id]
        title = entry.get("title") or pending["filename"]
        mimetype = mimetypes.guess_type(pending["filename"])[0] or "application/octet-stream"
        info = {"id": file_id, "name": pending["filename"], "title": title, "mimetype": mimetype,
                "size": len(pending["content"]), "user": sb.bot_user_id, "channels": channel_ids,
                "permalink": f"https://{sb.team_domain}.slack.com/files/{sb.bot_user_id}/{file_id}/{pending['filename']}"}
        shared.append(info)
        for channel in channel_ids or [None]:
            sb.files.append({"file_id": file_id, "filename": pending["filename"], "content": pending["content"],
                             "channel_id": channel, "title": title, "initial_comment": args.get("initial_comment"),
                             "thread_ts": args.get("thread_ts")})
    for channel in channel_ids:
        sb.post(channel, text=args.get("initial_comment") or "", blocks=[],
                thread_ts=args.get("thread_ts") or None, files=shared)
    return {"files": shared}


METHODS: dict[str, Callable[[Any, dict], dict]] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
