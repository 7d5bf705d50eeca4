"""Documents that leave the clinic: prior-authorization packet and end-of-course summary (printable pages),
the FHIR R4 Bundle of a course, and its sessions as CSV. Psychiatrists and administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from service.auth.principal import Principal
from service.clinical import support
from service.core.deps import Id, NowDep, SessionDep, SettingsDep, require_roles
from service.core.errors import Unprocessable
from service.documents import csv_export, fhir_bundle, packet, record, sessions_table
from service.eligibility import service as eligibility
from service.users.models import Role
from service.web.pages import page_roles, render

router = APIRouter(tags=["documents"])
PaperworkUser = Annotated[Principal, Depends(require_roles(Role.psychiatrist, Role.admin))]
PaperworkPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist, Role.admin))]


class FhirResponse(JSONResponse):
    media_type = "application/fhir+json"  # so the OpenAPI document names the type actually sent


class CsvResponse(Response):
    media_type = "text/csv"


@router.get("/api/v1/courses/{course_id}/fhir", response_class=FhirResponse)
def course_fhir(course_id: Id, who: PaperworkUser, session: SessionDep, now: NowDep) -> FhirResponse:
    """The course as a FHIR R4 collection Bundle (the export is audited)."""
    r = record.read(session, who, course_id, now, purpose="export_fhir")
    return FhirResponse(fhir_bundle.bundle(r, now))


@router.get("/api/v1/courses/{course_id}/sessions.csv", response_class=CsvResponse)
def course_csv(course_id: Id, who: PaperworkUser, session: SessionDep, now: NowDep) -> CsvResponse:
    """Every session of the course with delivered parameters, prescription and deviations, as CSV."""
    r = record.read(session, who, course_id, now, purpose="export_csv")
    return CsvResponse(csv_export.render(r), headers={
        "Content-Disposition": f'attachment; filename="course-{course_id}-sessions.csv"'})


@router.get("/courses/{course_id}/packet", include_in_schema=False)
def packet_page(
    request: Request, course_id: Id, me: PaperworkPage, session: SessionDep, settings: SettingsDep, now: NowDep,
    criteria: Annotated[str | None, Query(max_length=60, description="Payer criteria set id")] = None,
) -> Response:
    """Printable prior-authorization packet for one payer criteria set, with the missing evidence listed."""
    sets = eligibility.criteria_sets()
    if criteria is not None and criteria not in {s["id"] for s in sets}:
        raise Unprocessable("criteria", f"unknown criteria set '{criteria}'")
    r = record.read(session, me, course_id, now, purpose="print_packet")
    # The course's own criteria set (given at ordering) is the default payer view.
    chosen = criteria or r.course.criteria_set_id or sets[0]["id"]
    decision = eligibility.decide(session, me, r.patient.id or 0, chosen, now)
    today = support.clinic_today(session, me.clinic_id, now)
    return render(request, "packet.html", me, settings, p=packet.build(session, r, decision, today), sets=sets,
                  chosen=chosen, today=today)


@router.get("/courses/{course_id}/summary", include_in_schema=False)
def summary_page(request: Request, course_id: Id, me: PaperworkPage, session: SessionDep, settings: SettingsDep,
                 now: NowDep) -> Response:
    """Printable end-of-course summary for the referring clinician, with the signed summary if there is one."""
    r = record.read(session, me, course_id, now, purpose="print_summary")
    scores: dict[str, list[object]] = {}
    for a in r.assessments:
        scores.setdefault(a.instrument, []).append(a)
    signed = [rv for rv in r.reviews if rv.kind == "end_of_course"]
    return render(request, "summary.html", me, settings, r=r, scores=scores, counts=sessions_table.counts(r),
                  summaries=signed, today=support.clinic_today(session, me.clinic_id, now))
