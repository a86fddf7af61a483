"""Slack mrkdwn escaping: the one place user-typed text is made safe to put in a message.

Slack treats `&`, `<` and `>` as control characters in mrkdwn and asks for them escaped
(https://docs.slack.dev/messaging/formatting-message-text#escaping-text); an approver's note "Ship <today>" would
otherwise render as a link.
"""

from __future__ import annotations


def escape(text: str) -> str:
    """Escape Slack mrkdwn's three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
