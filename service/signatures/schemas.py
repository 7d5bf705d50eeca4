"""Request and response shapes for signatures and course reviews. Unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.core.amend import Unchanged
from service.models.signatures import Meaning, ReviewKind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


USERNAME_DOC = ("Your username: required at the first signing after sign-in (21 CFR 11.200(a)(1)(i)); later "
                "signings in the same sign-in session may leave it out")


class SignItem(_Strict):
    """One record to sign and the meaning of that signature."""

    subject: str = Field(min_length=1, max_length=40, description="Record kind, e.g. course_review")
    subject_id: int = Field(ge=1, le=2_147_483_647)
    meaning: Meaning


class SignIn(SignItem):
    """Sign one record: the signer enters the password, and the username too at the session's first signing."""

    username: str | None = Field(default=None, min_length=1, max_length=80, description=USERNAME_DOC)
    password: str = Field(min_length=1, max_length=256)


class SignBatch(_Strict):
    """Sign several records with one entry of the components; each record gets its own signature and meaning."""

    username: str | None = Field(default=None, min_length=1, max_length=80, description=USERNAME_DOC)
    password: str = Field(min_length=1, max_length=256)
    items: list[SignItem] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _each_once(self) -> SignBatch:
        keys = [(i.subject, i.subject_id, i.meaning) for i in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError("items: the same record and meaning appear twice")
        return self


class SignaturePublic(BaseModel):
    """What every display of a signed record shows: name, UTC time, meaning, and whether it still holds."""

    id: int
    subject: str
    subject_id: int
    subject_version: int
    meaning: str
    signer_id: int
    printed_name: str
    signed_at: datetime
    record_sha256: str
    status: str
    verified: str = Field(description="valid, superseded, or mismatch (the record changed without a new version)")
    superseded_at: datetime | None
    superseded_by_version: int | None
    superseded_reason: str | None


class ReviewCreate(_Strict):
    kind: ReviewKind
    week: int | None = Field(default=None, ge=1, le=104, description="Course week (weekly reviews)")
    note: str = Field(min_length=3, max_length=8000)
    plan: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _week_for_weekly(self) -> ReviewCreate:
        if self.kind == ReviewKind.weekly and self.week is None:
            raise ValueError("week: a weekly review names the course week it covers")
        return self


class ReviewAmend(_Strict):
    reason: str = Field(min_length=5, max_length=1000, description="Why the record is amended (required)")
    note: str = Unchanged(min_length=3, max_length=8000)
    plan: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _something_changes(self) -> ReviewAmend:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("an amendment must change the note or the plan")
        return self


class ReviewPublic(BaseModel):
    id: int
    patient_id: int
    course_id: int
    kind: str
    week: int | None
    note: str
    plan: str | None
    facts: dict[str, Any] | None
    written_by: int
    version: int
    created_at: datetime
    updated_at: datetime
    signatures: list[SignaturePublic] = Field(default_factory=list)
