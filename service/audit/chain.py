"""Keyed chain arithmetic: the canonical encoding of an audit row, its HMAC digest, and its link to the row before.

Both are HMAC-SHA256 under the audit key (``TMS_AUDIT_KEY``), which lives outside the database: someone who can
write to the database but does not hold the key cannot recompute a digest or a link after editing a row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from typing import Any

from service.core.clock import as_utc

GENESIS_HASH = "0" * 64

# What the request writes and the digest covers; the id, position and links are the sealer's.
CONTENT_FIELDS = (
    "at", "clinic_id", "user_id", "username", "action", "entity", "entity_id",
    "patient_id", "old_values", "new_values", "reason", "client",
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


def _mac(key: bytes, payload: dict[str, Any]) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_default)
    return hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()


def content_digest(key: bytes, fields: dict[str, Any]) -> str:
    """HMAC of the canonical JSON of a row's content (sorted keys, no whitespace, times in UTC to the µs)."""
    payload = {name: fields.get(name) for name in CONTENT_FIELDS}
    at = payload["at"]
    if not isinstance(at, datetime):
        raise TypeError("an audit row needs its timestamp before it can be hashed")
    payload["at"] = as_utc(at).isoformat(timespec="microseconds")
    return _mac(key, payload)


def link_hash(key: bytes, *, row_id: int, seq: int, prev_hash: str, digest: str) -> str:
    """HMAC binding a row (its id and digest) to its chain position and the link before it."""
    return _mac(key, {"id": row_id, "seq": seq, "prev_hash": prev_hash, "digest": digest})
