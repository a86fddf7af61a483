"""Which job or request a log line belongs to, on every line (contextvars: each asyncio task has its own)."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

CONTEXT: contextvars.ContextVar[str] = contextvars.ContextVar("holdfast_log_context", default="")
FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


@contextlib.contextmanager
def scope(text: str) -> Iterator[None]:
    """Lines logged inside carry `[text]` (a job: "job 42 shopify.hold request 7"; a webhook: its id)."""
    token = CONTEXT.set(text)
    try:
        yield
    finally:
        CONTEXT.reset(token)


class ContextFilter(logging.Filter):
    """Adds `context` (" [job 42 …]" or "") to every record, for FORMAT."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = CONTEXT.get()
        record.context = f" [{current}]" if current else ""
        return True


def install() -> None:
    """Put the filter and FORMAT on the root logger's handlers (after logging.basicConfig)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
        handler.setFormatter(logging.Formatter(FORMAT))
