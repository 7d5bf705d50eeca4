"""Amendment fields that may be left out but never set to null.

In an amendment, a field left out keeps its value. A field typed ``X | None`` also accepts an explicit
``null``, which for a column that cannot be empty reached the database as NULL (a 500). ``Unchanged()``
declares such a field as plain ``X``: pydantic does not validate the ``None`` default, so leaving the
field out still works, while an explicit ``null`` is a 422 naming the field, and the OpenAPI schema says
that null is not allowed.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # "default": null would contradict the non-null type


def Unchanged(**constraints: Any) -> Any:
    """An amendment field: omit it to keep the current value; ``null`` is refused."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)
