"""The OpenAPI document describes refusals as they are sent: the one error envelope, for every 4xx.

FastAPI documents only a 422 shaped ``{"detail": [...]}``, which this API never sends (service/core/handlers.py
answers ``{"error": {"code", "message", "details"}}``), and no other refusal at all, although every route can
answer 401/403 (role rules), most 404 (ids of another clinic) and 409 (state), and any write 413.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

ERROR = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "Machine-readable: validation_error, not_found, conflict, ..."},
            "message": {"type": "string", "description": "What was refused and why, naming the field or rule"},
            "details": {"description": "For a 422, a list of {field, message}; otherwise null or an object"},
        },
    }},
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_REFUSALS = {
    "422": "Invalid input: the details name each field and rule; nothing was changed",
    "4XX": "Refused (not signed in, role not allowed, not found in your clinic, conflicting state, too large); "
           "nothing was changed",
}
_FASTAPI_ONLY = ("HTTPValidationError", "ValidationError")


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every operation the error envelope for 422 and 4XX, and drop FastAPI's unused 422 shapes."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in _REFUSALS.items():
                responses[code] = {"description": description,
                                   "content": {"application/json": {"schema": _ERROR_REF}}}
    for name in _FASTAPI_ONLY:
        schemas.pop(name, None)
    assert not any(f"/{name}\"" in json.dumps(schema) for name in _FASTAPI_ONLY), "a dropped schema is still used"
    return schema


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
