"""Thin Slack listeners grouped by surface, and the Shopify webhook route.

Each listener is a module-level function: bolt hands it `ack`, the payload, `client` and `context`, and the
runtime comes from the context (bot/slack.py's middleware puts it there), so a listener can be imported and
called on its own (tests/listeners). A listener acks, loads, calls its feature's service, and answers.
"""

from __future__ import annotations

from typing import Any

from bot.runtime import Runtime

RUNTIME = "holdfast_runtime"  # the context key bot/slack.py's middleware sets


def runtime(context: Any) -> Runtime:
    """The runtime of the app that received this request."""
    return context[RUNTIME]
