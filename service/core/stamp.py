"""Record times a client may leave to the service: the literal "now" is stamped with the service's clock.

A tablet's clock a few seconds ahead of the server's would otherwise make a one-tap record "in the future"
and have it refused; the service's clock is the one every rule compares against, so it stamps the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, PlainValidator, TypeAdapter, ValidationError, WithJsonSchema

NOW = "now"
_INSTANT: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


def _instant_or_now(value: Any) -> datetime | str:
    # One validator rather than a union, so a bad value is reported against the field itself, not a branch of it.
    if value == NOW:
        return NOW
    try:
        return _INSTANT.validate_python(value)
    except ValidationError as exc:
        raise ValueError(f'{exc.errors()[0]["msg"]}, or "now"') from None


NowOr = Annotated[
    datetime | str,
    PlainValidator(_instant_or_now),
    WithJsonSchema({
        "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "enum": [NOW]}],
        "description": 'An instant with its UTC offset, or "now" for the service to stamp with its own clock',
    }),
]


def stamped(value: datetime | str, now: datetime) -> datetime:
    """The instant a client sent, or the service's ``now`` when it sent "now"."""
    return value if isinstance(value, datetime) else now
