"""Shapes for payer authorizations and their unit usage."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.core.amend import Unchanged
from service.models.authorizations import AuthorizationStatus, Cpt


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitGrant(_Strict):
    cpt: Cpt
    units: int = Field(ge=0, le=500)


def _check_units(units: list[UnitGrant]) -> None:
    codes = [u.cpt for u in units]
    if len(set(codes)) != len(codes):
        raise ValueError("units: each CPT code may appear once")
    if any(u.cpt == Cpt.initial and u.units > 1 for u in units):
        raise ValueError("units: CPT 90867 (initial session with MT determination) is billed once per course")


def _check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError("end_date must not be before start_date")


class AuthorizationCreate(_Strict):
    course_id: int = Field(ge=1, le=2_147_483_647)
    payer: str = Field(min_length=1, max_length=100)
    number: str = Field(min_length=1, max_length=60, description="The payer's authorization number")
    start_date: date
    end_date: date
    units: list[UnitGrant] = Field(min_length=1, max_length=3)

    @model_validator(mode="after")
    def _consistent(self) -> AuthorizationCreate:
        _check_units(self.units)
        _check_dates(self.start_date, self.end_date)
        return self


class AuthorizationAmend(_Strict):
    """An amendment (e.g. the payer extended the window or the units), with a reason."""

    reason: str = Field(min_length=5, max_length=1000)
    number: str = Unchanged(min_length=1, max_length=60)
    start_date: date = Unchanged()
    end_date: date = Unchanged()
    units: list[UnitGrant] | None = Field(default=None, min_length=1, max_length=3)
    status: AuthorizationStatus = Unchanged()

    @model_validator(mode="after")
    def _consistent(self) -> AuthorizationAmend:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("an amendment must change at least one field besides 'reason'")
        if self.units is not None:
            _check_units(self.units)
        _check_dates(self.start_date, self.end_date)
        return self


class UnitUsage(BaseModel):
    cpt: str
    units: int
    used: int
    booked: int
    remaining: int


class SessionUsage(BaseModel):
    """Session units (90867 + 90868): authorized, delivered, booked ahead, and what is left."""

    authorized: int
    delivered: int
    booked: int
    remaining: int = Field(description="authorized - delivered")
    unbooked: int = Field(description="authorized - delivered - booked: what new bookings may still use")


class AuthorizationPublic(BaseModel):
    id: int
    course_id: int
    patient_id: int
    payer: str
    number: str
    start_date: date
    end_date: date
    status: str
    version: int
    created_at: datetime
    units: list[UnitUsage]
    sessions: SessionUsage


class AuthorizationBrief(BaseModel):
    """What a booking shows about the authorization it draws on."""

    id: int
    number: str
    end_date: date
    sessions: SessionUsage
