"""Forms that start a patient's record: intake of a referral, and the psychiatrist's course order. Each posts
to the API route that records it (app.js)."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from config import clinical_data
from config.clinical_data import Protocol
from config.course_templates import get_course_template
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.courses.schemas import EligibilityException, Placement
from service.eligibility import service as eligibility
from service.models.courses import CourseKind
from service.models.users import Role
from service.patients import service as patients
from service.patients.schemas import Sex
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
IntakePage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist, Role.admin))]
PsychiatristPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist))]


def protocol_params(protocol: Protocol) -> dict[str, Any]:
    """A catalog protocol as the safety check's parameters (the intensity is the one being typed)."""
    burst = protocol.burst.model_dump() if protocol.burst else {}
    return {"pattern": protocol.pattern, "frequency_hz": protocol.frequency_hz, "train_duration_s":
            protocol.train_duration_s, "iti_s": protocol.iti_s, "trains": protocol.trains, "coil": protocol.coil,
            "intensity_basis": protocol.intensity_basis, **burst}


@router.get("/patients/new")
def intake_form(request: Request, me: IntakePage, settings: SettingsDep) -> Response:
    """A referral's intake: identity, diagnosis, referrer and payer."""
    return render(request, "form_intake.html", me, settings, sexes=list(Sex), page="patients")


@router.get("/patients/{patient_id}/course")
def course_order_form(request: Request, patient_id: Id, me: PsychiatristPage, session: SessionDep,
                      settings: SettingsDep, now: NowDep) -> Response:
    """Order a course: protocol from the catalog (with its clearance status), intensity, kind, target, the payer
    criteria set with the patient's eligibility under each, and the documented exception where not eligible."""
    patient = patients.get_or_404(session, me, patient_id)
    sets = eligibility.criteria_sets()
    decisions = [eligibility.decide(session, me, patient_id, cs["id"], now) for cs in sets]
    # The patient's own payer's set is the one a clinic bills under, so it is chosen first.
    payer = (patient.payer or "").split()[0].lower() if (patient.payer or "").strip() else ""
    preferred = next((cs["id"] for cs in sets if payer and cs["name"].lower().startswith(payer)), sets[0]["id"])
    bases = get_args(EligibilityException.model_fields["basis"].annotation)
    protocols = [p for p in clinical_data.protocols().protocols if p.whitelisted and p.course_template_id]
    templates = {p.id: get_course_template(p.course_template_id).name for p in protocols if p.course_template_id}
    params = {p.id: protocol_params(p) for p in protocols}
    return render(request, "form_course_order.html", me, settings, p=patient, protocols=protocols, params=params,
                  templates=templates, kinds=list(CourseKind), placements=list(get_args(Placement)),
                  decisions=decisions, preferred=preferred, bases=bases, page="patients")
