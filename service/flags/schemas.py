"""Shapes for the review queue."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Resolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: str = Field(min_length=5, max_length=1000, description="What was done about it")


class FlagPublic(BaseModel):
    id: int
    kind: str
    key: str
    patient_id: int | None
    course_id: int | None
    booking_id: int | None
    due_at: datetime | None
    message: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: int | None
    resolution: str | None
