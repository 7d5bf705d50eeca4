"""Errors that carry their HTTP status, and the one JSON error shape every 4xx/5xx uses.

Shape: ``{"error": {"code": str, "message": str, "details": list | dict | None}}``.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base for every refusal a route can give; the handler turns it into the JSON error shape."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request is well formed but the current state forbids it (a failed gate, a double booking)."""

    status_code = 409
    code = "conflict"


class Unprocessable(ServiceError):
    """A field's value breaks a rule; ``details`` names the field."""

    status_code = 422
    code = "validation_error"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {message}", details=[{"field": field, "message": message}], code=code)
        self.field = field


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(ServiceError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_seconds": retry_after_s})
        self.retry_after_s = retry_after_s


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The single error envelope."""
    return {"error": {"code": code, "message": message, "details": details}}
