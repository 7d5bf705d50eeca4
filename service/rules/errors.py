"""The one error type the rule engines raise for bad input (the API turns it into a 422)."""

from __future__ import annotations

from datetime import date


class RuleInputError(ValueError):
    """Input a rule cannot judge; ``field`` names it the way a JSON body would (``items[8]``, ``stop_date``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class LimitExceededError(RuleInputError):
    """A requested value lies above a hard limit; refused, never clamped (design: 'refuse, never clamp')."""

    def __init__(self, field: str, message: str, *, limit: float, value: float) -> None:
        super().__init__(field, message)
        self.limit = limit
        self.value = value


def require_not_future(field: str, value: date, today: date) -> None:
    """Refuse a clinical date that lies after ``today``."""
    if value > today:
        raise RuleInputError(field, f"{value.isoformat()} is in the future (today is {today.isoformat()})")


def require_order(field: str, start: date, stop: date) -> None:
    """Refuse a stop date before its start date."""
    if stop < start:
        raise RuleInputError(field, f"stop date {stop.isoformat()} is before start date {start.isoformat()}")
