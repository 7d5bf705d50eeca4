"""Request and response shapes for patients. Unknown fields are refused (no mass assignment)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from service.core.amend import Unchanged

ICD10 = Annotated[
    str, StringConstraints(pattern=r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$", strip_whitespace=True)
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
MRN = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")]


class Sex(enum.StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientFields(_Strict):
    family_name: Name
    given_name: Name
    date_of_birth: date
    sex: Sex
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = None
    address: str | None = Field(default=None, max_length=400)
    primary_diagnosis: ICD10 = Field(description="ICD-10-CM code, e.g. F33.2")
    referring_clinician: str | None = Field(default=None, max_length=200)
    payer: str | None = Field(default=None, max_length=100)
    payer_member_id: str | None = Field(default=None, max_length=60)


class PatientCreate(PatientFields):
    mrn: MRN = Field(description="Medical record number, unique within the clinic")


class PatientAmend(_Strict):
    """An amendment: only the fields that change, and why."""

    reason: str = Field(min_length=5, max_length=1000, description="Why the record is amended (required)")
    family_name: Name = Unchanged()
    given_name: Name = Unchanged()
    date_of_birth: date = Unchanged()
    sex: Sex = Unchanged()
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = None
    address: str | None = Field(default=None, max_length=400)
    primary_diagnosis: ICD10 = Unchanged()
    referring_clinician: str | None = Field(default=None, max_length=200)
    payer: str | None = Field(default=None, max_length=100)
    payer_member_id: str | None = Field(default=None, max_length=60)

    @model_validator(mode="after")
    def _something_changes(self) -> PatientAmend:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("an amendment must change at least one field besides 'reason'")
        return self


class PatientPublic(BaseModel):
    id: int
    clinic_id: int
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: str
    phone: str | None
    email: str | None
    address: str | None
    primary_diagnosis: str
    referring_clinician: str | None
    payer: str | None
    payer_member_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class PatientPage(BaseModel):
    items: list[PatientPublic]
    total: int
    limit: int
    offset: int
