"""Refusals shared by every resource: rule-engine input errors, future dates, reversed ranges, state conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from service.core.errors import Conflict, Unprocessable
from service.rules.errors import RuleInputError
from service.rules.errors import require_order as rules_require_order


@contextmanager
def field_errors(prefix: str = "") -> Iterator[None]:
    """Turn a rule engine's ``RuleInputError`` into a 422 naming the request field (``prefix`` + its field)."""
    try:
        yield
    except RuleInputError as exc:
        raise Unprocessable(f"{prefix}{exc.field}", exc.message) from None


def require_past(field: str, value: date | datetime, now: datetime, today: date) -> None:
    """Refuse a clinical date or time that lies in the future."""
    future = value > now if isinstance(value, datetime) else value > today
    if future:
        raise Unprocessable(field, f"{value.isoformat()} is in the future")


def require_order(field: str, start: date | None, stop: date | None) -> None:
    """Refuse a stop date before its start date (the rule engines' check, as a 422); an open range passes."""
    if start is not None and stop is not None:
        with field_errors():
            rules_require_order(field, start, stop)


def conflict(field: str, message: str) -> Conflict:
    """A 409 that names the field whose state forbids the request."""
    return Conflict(f"{field}: {message}", details=[{"field": field, "message": message}])

