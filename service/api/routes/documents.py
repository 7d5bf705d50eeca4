"""Documents that leave the clinic as data: the FHIR R4 Bundle of a course and its sessions as CSV.
Psychiatrists and administrators only (the printable packet and summary are pages: service/web/document_pages.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from service.api.deps import Id, NowDep, SessionDep, require_roles
from service.auth.principal import Principal
from service.documents import csv_export, fhir_bundle, record
from service.models.users import Role

router = APIRouter(tags=["documents"])
PaperworkUser = Annotated[Principal, Depends(require_roles(Role.psychiatrist, Role.admin))]


class FhirResponse(JSONResponse):
    media_type = "application/fhir+json"  # so the OpenAPI document names the type actually sent


class CsvResponse(Response):
    media_type = "text/csv"


@router.get("/api/v1/courses/{course_id}/fhir", response_class=FhirResponse)
def course_fhir(course_id: Id, who: PaperworkUser, session: SessionDep, now: NowDep) -> FhirResponse:
    """The course as a FHIR R4 collection Bundle (the export is audited)."""
    r = record.read(session, who, course_id, now, purpose="export_fhir")
    # A download, not a page: browsers save it under a name that says what it is and when it was taken,
    # without the patient's name (file names end up in download folders and mail attachments).
    name = f"tmsops-course-{course_id}-fhir-{now.strftime('%Y%m%d')}.json"
    return FhirResponse(fhir_bundle.bundle(r, now), headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/v1/courses/{course_id}/sessions.csv", response_class=CsvResponse)
def course_csv(course_id: Id, who: PaperworkUser, session: SessionDep, now: NowDep) -> CsvResponse:
    """Every session of the course with delivered parameters, prescription and deviations, as CSV."""
    r = record.read(session, who, course_id, now, purpose="export_csv")
    return CsvResponse(csv_export.render(r), headers={
        "Content-Disposition": f'attachment; filename="course-{course_id}-sessions.csv"'})
