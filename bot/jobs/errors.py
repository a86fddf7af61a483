"""How an executor tells the worker what to do with a failure."""

from __future__ import annotations


class RetryLater(Exception):
    """Transient failure: try again after backoff, or after `retry_after` seconds when the service said so."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class GiveUp(Exception):
    """Permanent failure: retrying cannot help; the job goes dead at once."""


class Deferred(RetryLater):
    """Not a failure: run again in `retry_after` seconds (a Slack 429, a channel's next free slot).

    An executor wrapped in `slack_effects.deferrable` goes back to the queue without spending an attempt, so a
    flood of posts to one channel waits its turn instead of running out of attempts; unwrapped, it is a RetryLater.
    """
