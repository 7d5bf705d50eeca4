"""The append-only, hash-chained audit trail (HIPAA 164.312(b), 21 CFR 11.10(e), ONC 170.315(d)(2))."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, when, why, with old and new values; chained by ``seq`` and ``prev_hash``."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field()
    clinic_id: int | None = Field(default=None, index=True)
    user_id: int | None = Field(default=None, index=True)
    username: str | None = Field(default=None, max_length=80)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=60)
    entity_id: str | None = Field(default=None, max_length=64)
    patient_id: int | None = Field(default=None, index=True)
    old_values: dict[str, Any] | None = json_field()
    new_values: dict[str, Any] | None = json_field()
    reason: str | None = Field(default=None, max_length=1000)
    client: str | None = Field(default=None, max_length=64)
    # Written by the request: an HMAC of the row's content, so a row edited before it is sealed is caught.
    digest: str | None = Field(default=None, max_length=64)
    # Written once by the sealer (service.audit.sealer): the chain position and the keyed link to the row
    # before it. None until sealed; the request that records the row takes no chain-wide lock.
    seq: int | None = Field(default=None, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)

    @property
    def sealed(self) -> bool:
        return self.seq is not None


class AuditHead(SQLModel, table=True):
    """The sealed chain's tail (one row). Only the sealer locks it; it also exposes a truncated tail."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = 0  # the id of the row at ``last_seq``
    last_hash: str = Field(max_length=64)
    last_seq: int = 0
