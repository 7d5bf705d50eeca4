"""Wall-clock times of a clinic's own day (opening hours, shifts, session windows): never with a UTC offset.

Such a time means "08:00 in the clinic's timezone". pydantic's ``time`` also took "08:00:00+05:00" (and a
number of seconds, read as UTC) and silently dropped the offset; the schema said ``format: time``, which in
JSON Schema is an RFC 3339 time *with* an offset - the opposite of what the API sends. ``LocalTime`` takes
only "HH:MM[:SS[.ffffff]]" strings, refuses an offset by name, and documents exactly that.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):  # pydantic reads a number as seconds since midnight UTC
        raise ValueError("a local time is written HH:MM[:SS], not a number")
    return value


def _no_offset(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local wall-clock time takes no UTC offset: the clinic's timezone applies")
    return value


LocalTime = Annotated[
    time, BeforeValidator(_not_a_number), AfterValidator(_no_offset),
    WithJsonSchema({"type": "string", "pattern": PATTERN, "description": "Local wall-clock time, HH:MM[:SS]",
                    "examples": ["08:00"]}),
]
