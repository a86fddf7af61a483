"""views.open/push/update/publish: modals (with trigger_id expiry and a 3-deep stack) and App Home."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable

from .args import json_arg, required
from .blockkit import as_slack_messages, check_view
from .state import SlackError

if TYPE_CHECKING:
    from .core import SlackSandbox

# Slack keeps at most three modals in a stack.
MAX_STACK = 3


def view_api(view: dict) -> dict:
    """A stored view as Slack returns it (without the sandbox's bookkeeping keys)."""
    return {k: copy.deepcopy(v) for k, v in view.items() if k != "user"}


def _checked_view(sb: SlackSandbox, args: dict, kind: str | None) -> dict:
    view = json_arg(args, "view", "invalid_arguments")
    if view is None:
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: view"]})
    problems = check_view(view)
    if not problems and kind is not None and view.get("type") != kind:
        problems = [f"must be {kind} [json-pointer:/view/type]"]
    if problems:
        raise SlackError("invalid_arguments", response_metadata={"messages": as_slack_messages(problems)})
    external_id = view.get("external_id")
    if external_id and any(v.get("external_id") == external_id for v in sb.views.values()):
        raise SlackError("duplicate_external_id")
    return view


def _new_hash(sb: SlackSandbox) -> str:
    return f"{int(sb.wall_clock())}.{sb.short_id(8)}"


def _store(sb: SlackSandbox, view: dict, *, user: str | None, view_id: str | None = None,
           previous: str | None = None, root: str | None = None) -> dict:
    """Build the view object Slack would hold and keep it in sb.views."""
    view_id = view_id or "V" + sb.new_id(10)
    stored = {
        "id": view_id, "team_id": sb.team_id, "type": view["type"],
        "blocks": sb.fill_ids(view.get("blocks") or []),
        "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
        "state": {"values": {}}, "hash": _new_hash(sb),
        "title": view.get("title"), "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "close": view.get("close"), "submit": view.get("submit"),
        "previous_view_id": previous, "root_view_id": root or view_id, "app_id": sb.app_id,
        "external_id": view.get("external_id", ""), "app_installed_team_id": sb.team_id,
        "bot_id": sb.bot_id, "user": user,
    }
    sb.views[view_id] = stored
    return stored


def open_view(sb: SlackSandbox, args: dict) -> dict:
    """views.open: needs a trigger_id the simulator issued less than 3 s ago, used once."""
    view = _checked_view(sb, args, "modal")
    trigger = sb.use_trigger(args.get("trigger_id"))
    stored = _store(sb, view, user=trigger["user"])
    if trigger["user"]:
        sb.view_stacks[trigger["user"]] = [stored["id"]]
    return {"view": view_api(stored)}


def push_view(sb: SlackSandbox, args: dict) -> dict:
    """views.push: stacks a modal on the user's open one (at most three deep)."""
    view = _checked_view(sb, args, "modal")
    trigger = sb.use_trigger(args.get("trigger_id"))
    stack = sb.view_stacks.get(trigger["user"] or "", [])
    if not stack:
        raise SlackError("not_found")
    if len(stack) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    stored = _store(sb, view, user=trigger["user"], previous=stack[-1], root=stack[0])
    stack.append(stored["id"])
    return {"view": view_api(stored)}


def _target(sb: SlackSandbox, args: dict) -> dict:
    view_id, external_id = args.get("view_id"), args.get("external_id")
    if not view_id and not external_id:
        raise SlackError("invalid_arguments")
    for stored in sb.views.values():
        if (view_id and stored["id"] == view_id) or (not view_id and stored.get("external_id") == external_id):
            return stored
    raise SlackError("not_found")


def update_view(sb: SlackSandbox, args: dict) -> dict:
    """views.update: replaces a view's content; a stale `hash` gives hash_conflict."""
    target = _target(sb, args)
    if args.get("hash") and args["hash"] != target["hash"]:
        raise SlackError("hash_conflict")
    view = json_arg(args, "view", "invalid_arguments") or {}
    if view.get("external_id") == target.get("external_id"):
        view = {k: v for k, v in view.items() if k != "external_id"}
    view = _checked_view(sb, {"view": view}, target["type"])
    state = target["state"]
    stored = _store(sb, view, user=target["user"], view_id=target["id"], previous=target["previous_view_id"],
                    root=target["root_view_id"])
    stored["state"] = state
    if not view.get("external_id"):
        stored["external_id"] = target.get("external_id", "")
    return {"view": view_api(stored)}


def publish(sb: SlackSandbox, args: dict) -> dict:
    """views.publish: the user's App Home."""
    user = required(args, "user_id", "invalid_arguments")
    if user not in sb.users:
        raise SlackError("user_not_found")
    current = sb.home_views.get(user)
    if current and args.get("hash") and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    view = _checked_view(sb, args, "home")
    stored = _store(sb, view, user=user, view_id=current["id"] if current else None)
    sb.home_views[user] = stored
    return {"view": view_api(stored)}


def apply_submission_answer(sb: SlackSandbox, view_id: str, answer: Any) -> None:
    """What Slack does with the bot's ack to a view_submission (response_action)."""
    view = sb.views[view_id]
    stack = sb.view_stacks.get(view["user"] or "", [])
    action = answer.get("response_action") if isinstance(answer, dict) else None
    if action == "errors":
        return
    if action in ("update", "push") and isinstance(answer.get("view"), dict):
        problems = check_view(answer["view"])
        if problems:
            raise ValueError(f"invalid view in response_action {action}: {problems}")
        if action == "update":
            _store(sb, answer["view"], user=view["user"], view_id=view_id,
                   previous=view["previous_view_id"], root=view["root_view_id"])
        else:
            pushed = _store(sb, answer["view"], user=view["user"], previous=view_id, root=view["root_view_id"])
            stack.append(pushed["id"])
        return
    if action == "clear":
        stack.clear()
    elif view_id in stack:
        # No response_action: Slack closes the submitted modal and shows the one below it.
        del stack[stack.index(view_id):]


METHODS: dict[str, Callable[[Any, dict], dict]] = {
    "views.open": open_view,
    "views.push": push_view,
    "views.update": update_view,
    "views.publish": publish,
}
