"""Hash chain arithmetic: canonical encoding of an audit row and its SHA-256 link to the previous one."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from service.core.clock import as_utc

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "id", "at", "clinic_id", "user_id", "username", "action", "entity", "entity_id",
    "patient_id", "old_values", "new_values", "reason", "client", "prev_hash",
)


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_json_value(value: Any) -> Any:
    """Normalize a value to what a JSON column gives back (dates become ISO strings)."""
    return json.loads(json.dumps(value, default=_default))


def row_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the hashed fields (sorted keys, no whitespace)."""
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    at = payload["at"]
    if not isinstance(at, datetime):
        raise TypeError("an audit row needs its timestamp before it can be hashed")
    payload["at"] = as_utc(at).isoformat(timespec="microseconds")
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256(encoded.encode()).hexdigest()
