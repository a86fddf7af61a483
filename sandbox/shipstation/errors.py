"""ShipStation's error responses: one shape for every refusal, with a request id support can look up.

Shape (https://docs.shipstation.com/apis/shipengine/docs/reference/errors-codes, the V2 API keeps it):
{"request_id": uuid, "errors": [{"error_source", "error_type", "error_code", "message"}]}; error_type is one of
account_status, business_rules, validation, security, system, integrations.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web


class ApiError(Exception):
    """A refusal the handler raises; the server answers it as `status` with ShipStation's error body."""

    def __init__(self, status: int, error_type: str, error_code: str, message: str, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error_type, self.error_code, self.message = status, error_type, error_code, message
        self.headers = headers or {}


def error_body(*, error_type: str, error_code: str, message: str) -> dict[str, Any]:
    return {"request_id": str(uuid.uuid4()),
            "errors": [{"error_source": "shipstation", "error_type": error_type, "error_code": error_code,
                        "message": message}]}


def error_response(exc: ApiError) -> web.Response:
    body = error_body(error_type=exc.error_type, error_code=exc.error_code, message=exc.message)
    return web.json_response(body, status=exc.status, headers=exc.headers)


def bad_field(message: str, *, code: str = "invalid_field_value") -> ApiError:
    """400, validation: the request names a value ShipStation does not accept."""
    return ApiError(400, "validation", code, message)


def bad_status(message: str) -> ApiError:
    """400, business_rules: the shipment's status forbids the operation (label purchased, cancelled, not held)."""
    return ApiError(400, "business_rules", "invalid_status", message)


def not_found(what: str) -> ApiError:
    # The docs give 404 for an unknown resource (https://docs.shipstation.com/apis/shipengine/docs/guides/errors);
    # the code for it is not listed per endpoint: invalid_identifier, the closest of the documented codes.
    return ApiError(404, "validation", "invalid_identifier", f"{what} not found")


UNAUTHORIZED = ("security", "unauthorized",
                "The API key is invalid. Please check your API key and try again (API-Key header).")
