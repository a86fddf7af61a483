"""Plain-text rendering of Block Kit for terminal demos and readable test failures."""

from __future__ import annotations

import re
from typing import Any

RULE = "-" * 40
_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BARE = re.compile(r"<([@#!]?)([^<>|]+)>")


def _mrkdwn(text: str) -> str:
    """Slack's link and mention syntax made readable: <url|label> -> label, <@U1> -> @U1."""
    text = _LINK.sub(lambda m: ("#" + m.group(2)) if m.group(1).startswith("#") else m.group(2), text)
    return _BARE.sub(lambda m: (m.group(1) if m.group(1) in "@#" else "") + m.group(2), text)


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return _mrkdwn(str(obj.get("text", "")))
    return _mrkdwn(str(obj or ""))


def _element(element: dict) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    if kind in ("static_select", "external_select", "users_select", "conversations_select", "channels_select",
                "multi_static_select", "multi_external_select", "multi_users_select",
                "multi_conversations_select", "multi_channels_select"):
        chosen = element.get("initial_option") or {}
        label = _text(chosen.get("text")) if chosen else _text(element.get("placeholder")) or "Select"
        return f"[{label} v]"
    if kind == "overflow":
        return "[...]"
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        initial = element.get("initial_date") or element.get("initial_time") or element.get("initial_date_time")
        return f"[{kind[:-6]}: {initial or _text(element.get('placeholder')) or '...'}]"
    if kind in ("checkboxes", "radio_buttons"):
        mark = "[ ]" if kind == "checkboxes" else "( )"
        return "  ".join(f"{mark} {_text(o.get('text'))}" for o in element.get("options", []))
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"):
        initial = element.get("initial_value")
        return f"[{initial}]" if initial else "[________]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("plain_text", "mrkdwn"):
        return _text(element)
    return f"[{kind}]"


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "user":
            return "@" + str(node.get("user_id", ""))
        if node.get("type") == "link":
            return str(node.get("text") or node.get("url", ""))
        inner = "".join(_rich_text(child) for child in node.get("elements", []))
        return inner + ("\n" if node.get("type") in ("rich_text_section", "rich_text_preformatted") else "")
    return ""


def _fields(fields: list) -> list[str]:
    # A field is usually "*Label*\nvalue": shown as "Label: value" on one line.
    texts = [": ".join(p.strip() for p in _text(f).replace("*", "").splitlines() if p.strip()) for f in fields]
    width = max((len(t.splitlines()[0]) if t else 0 for t in texts), default=0)
    lines = []
    for i in range(0, len(texts), 2):
        pair = texts[i:i + 2]
        lines.append("  " + (pair[0].ljust(width + 4) + pair[1] if len(pair) == 2 else pair[0]).rstrip())
    return lines


def render_blocks(blocks: list[dict]) -> str:
    """Blocks as lines of text: headers underlined, buttons as [Approve] [Reject]."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += [title, "=" * len(title)]
        elif kind == "section":
            text = _text(block.get("text")) if block.get("text") else ""
            accessory = block.get("accessory")
            if accessory:
                text = f"{text}  {_element(accessory)}".strip()
            if text:
                lines.append(text)
            lines += _fields(block.get("fields", []))
        elif kind == "divider":
            lines.append(RULE)
        elif kind == "context":
            lines.append("  " + " | ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "actions":
            lines.append(" ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(f"{_text(block.get('label'))}{optional}: {_element(block.get('element') or {})}")
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "rich_text":
            lines.append(_rich_text(block).rstrip("\n"))
        elif kind == "markdown":
            lines.append(_mrkdwn(str(block.get("text", ""))))
        else:
            lines.append(f"[{kind}]")
    return "\n".join(lines)


def render(message_or_blocks: Any) -> str:
    """A message (Message or API dict), a view dict, or a list of blocks as readable text."""
    if isinstance(message_or_blocks, list):
        return render_blocks(message_or_blocks)
    if isinstance(message_or_blocks, dict):
        data = message_or_blocks
    else:
        data = {"text": getattr(message_or_blocks, "text", ""), "blocks": getattr(message_or_blocks, "blocks", []),
                "files": getattr(message_or_blocks, "files", [])}
    if data.get("type") in ("modal", "home"):
        head = f"[{data['type']}] {_text(data.get('title'))}".rstrip()
        buttons = " ".join(f"[{_text(data[k])}]" for k in ("close", "submit") if data.get(k))
        return "\n".join(part for part in (head, render_blocks(data.get("blocks") or []), buttons) if part)
    body = render_blocks(data["blocks"]) if data.get("blocks") else _mrkdwn(str(data.get("text") or ""))
    attached = [f"[file: {f.get('name') or f.get('title')}]" for f in data.get("files") or []]
    return "\n".join([body] + attached) if attached else body
