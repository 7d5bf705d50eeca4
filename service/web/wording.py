"""Refusals in plain words for pages: validator wording ("Input should be greater than 0") becomes a sentence
a technician reads at a glance ("Must be more than 0."). The API keeps its own wording; app.js applies the
same table to form errors shown next to their fields."""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"^Field required$", "This is required."),
    (r"^Input should be greater than or equal to (.+)$", r"Must be at least \1."),
    (r"^Input should be greater than (.+)$", r"Must be more than \1."),
    (r"^Input should be less than or equal to (.+)$", r"Must be at most \1."),
    (r"^Input should be less than (.+)$", r"Must be less than \1."),
    (r"^String should have at least (\d+) characters?$", r"Write at least \1 characters."),
    (r"^String should have at most (\d+) characters?$", r"Keep it to \1 characters or fewer."),
    (r"^Input should be a valid (integer|number).*$", "Enter a number."),
    (r"^Input should be a valid date.*$", "Enter a date (YYYY-MM-DD)."),
    (r"^Input should be a valid datetime.*$", "Enter a date and time."),
    (r"^Input should be (.+)$", r"Choose one of: \1."),
    (r"^Extra inputs are not permitted$", "This field is not accepted here."),
))


def plain(message: str) -> str:
    """One validator or rule message as a sentence."""
    text = re.sub(r"^(Value error|Assertion failed), ", "", message.strip())
    for pattern, replacement in _RULES:
        if pattern.match(text):
            text = pattern.sub(replacement, text)
            break
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def field_words(field: str) -> str:
    """A request field's name as words ("intensity_pct_mt" → "Intensity pct mt")."""
    last = field.rsplit(".", 1)[-1]
    spaced = re.sub(r"\[\d+\]", "", last).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]
