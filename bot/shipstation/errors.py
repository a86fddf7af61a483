"""What a ShipStation call can end in, besides an answer; each message is one sentence for the operator.

ShipStation's error body is `{"request_id": uuid, "errors": [{"error_source", "error_type", "error_code",
"message"}]}` (https://docs.shipstation.com/apis/shipengine/docs/reference/errors-codes). The four kinds are
siblings, not subclasses of one another, so `except ShipStationError` never swallows a rate limit or a bad key.
"""

from __future__ import annotations


class ShipStationProblem(Exception):
    """Base of every ShipStation failure: the HTTP status (0: no answer), ShipStation's error_code and message."""

    def __init__(self, message: str, *, status: int = 0, code: str | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message, self.status, self.code, self.request_id = message, status, code, request_id


class ShipStationError(ShipStationProblem):
    """Refused for good (a 4xx other than 401/403/429): e.g. a label was purchased already, so it cannot be held."""


class ShipStationRateLimited(ShipStationProblem):
    """Over the account's 200 requests a minute (429), or about to be: wait retry_after_s, then try again.

    https://docs.shipstation.com/rate-limits: "The response will also include a Retry-After header that specifies
    the number of seconds to wait until your next request can be processed"."""

    def __init__(self, message: str, *, retry_after_s: float, status: int = 429, code: str | None = None,
                 request_id: str | None = None):
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.retry_after_s = retry_after_s


class ShipStationTransient(ShipStationProblem):
    """ShipStation (or the way to it) failed this time: a 5xx, a timeout, a broken connection. Retry with backoff."""


class ShipStationAuthError(ShipStationProblem):
    """The API key was refused (401/403): no call for this shop will work until the key is fixed."""
