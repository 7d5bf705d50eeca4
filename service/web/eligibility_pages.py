"""The patient's eligibility under every payer criteria set: each criterion met or not, each missing item a link to
the form that supplies it; the eligibility-profile form (PUT, replacing needs a reason); and, for a course ordered
with no eligibility on record, the psychiatrist's documented exception."""

from __future__ import annotations

import re
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from config import clinical_data
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.core.errors import NotFound
from service.courses import eligibility_gate
from service.courses.schemas import EligibilityException
from service.eligibility import service as eligibility
from service.eligibility.schemas import EctStatus
from service.models.courses import Course
from service.models.users import Role
from service.patients import service as patients
from service.records import clinic_day
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]
OptionalCourse = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
ENDED = ("completed", "discontinued")
TRIAL_REF = re.compile(r"^medication_trials\[\d+\] \((.+?)\)")  # the rule's index means nothing on screen
# Which form supplies what a criterion of each type misses; "{scale}" needs a course to record the scale under.
SUPPLIERS = {
    "age": "/patients/{patient_id}/edit",
    "diagnosis": "/patients/{patient_id}/edit",
    "baseline_scale": "{scale}",
    "medication_trials": "/patients/{patient_id}/history#medication-trials",
    "psychotherapy": "/patients/{patient_id}/history#psychotherapy",
    "psychiatrist_evaluation": "#profile",
    "exclusions": "#profile",
    "documentation": "#profile",
    "retreatment": "#profile",
}


def _course(session: Session, me: Principal, patient_id: int, course_id: int | None) -> Course | None:
    """The course asked for, else the patient's newest open one (the scale link records under it)."""
    if course_id is not None:
        return clinic_day.course_for_patient(session, me.clinic_id, patient_id, course_id, field="course_id")
    rows = [c for c in patients_courses(session, me.clinic_id, patient_id) if c.status not in ENDED]
    return rows[0] if rows else None


def patients_courses(session: Session, clinic_id: int, patient_id: int) -> list[Course]:
    """The patient's courses, newest first."""
    return list(session.exec(select(Course).where(Course.clinic_id == clinic_id, Course.patient_id == patient_id)
                             .order_by(col(Course.ordered_at).desc(), col(Course.id).desc())).all())


def _baseline_instruments() -> dict[tuple[str, str], str]:
    """Per (criteria set, criterion): the scale a baseline criterion asks for (its threshold's, else its first)."""
    out = {}
    for cs in clinical_data.payer_criteria().criteria_sets:
        for c in cs.criteria:
            if c.type == "baseline_scale":
                wanted = [t.instrument for t in c.thresholds] or list(c.instruments)
                out[(cs.id, c.id)] = wanted[0]
    return out


def _sentence(missing: str) -> str:
    """A missing item as words on screen: the rule's trial index dropped, the first letter capitalised."""
    text = TRIAL_REF.sub(r"the \1 trial", missing).replace("_", " ")
    return text[:1].upper() + text[1:]


def missing_links(decision: dict[str, Any], patient_id: int, course: Course | None) -> list[dict[str, Any]]:
    """Each criterion of a decision with its missing items, each item with the link to the form that supplies it."""
    scales = _baseline_instruments()
    out = []
    for c in decision["criteria"]:
        path = SUPPLIERS.get(c["type"], "#profile")
        if path == "{scale}":
            instrument = scales.get((decision["criteria_set_id"], c["id"]), "PHQ-9")
            course_query = f"course_id={course.id}&" if course is not None else ""
            path = f"/patients/{patient_id}/assessment?{course_query}instrument={instrument}"
        href = path.format(patient_id=patient_id) if path else None
        items = [{"text": _sentence(m), "href": href} for m in c["missing"]]
        out.append(c | {"items": items})
    return out


def _documentation_keys() -> list[tuple[str, str]]:
    keys: dict[str, str] = {}
    for cs in clinical_data.payer_criteria().criteria_sets:
        for c in cs.criteria:
            if c.type == "documentation":
                keys[c.key] = c.description
    return sorted(keys.items())


def _profile(session: Session, me: Principal, patient_id: int, now: Any) -> Any:
    """The eligibility profile through the service (the read is audited), or None before the first one."""
    try:
        return eligibility.read_profile(session, me, patient_id, now)
    except NotFound:
        return None


@router.get("/patients/{patient_id}/eligibility")
def eligibility_page(request: Request, patient_id: Id, me: ClinicalPage, session: SessionDep,
                     settings: SettingsDep, now: NowDep, course_id: OptionalCourse = None) -> Response:
    """Per payer criteria set: eligible or not, what is missing (linked), and the eligibility-profile form."""
    patient = patients.get_or_404(session, me, patient_id)
    course = _course(session, me, patient_id, course_id)
    decisions = [eligibility.decide(session, me, patient_id, cs["id"], now) for cs in eligibility.criteria_sets()]
    shown = [d | {"rows": missing_links(d, patient_id, course)} for d in decisions]
    undocumented = course is not None and not eligibility_gate.documented(course) and course.status not in ENDED
    return render(
        request, "eligibility.html", me, settings, p=patient, c=course, decisions=shown,
        profile=_profile(session, me, patient_id, now),
        vocabulary=clinical_data.payer_criteria().condition_vocabulary, documentation=_documentation_keys(),
        ect=[e.value for e in EctStatus], undocumented=undocumented,
        bases=get_args(EligibilityException.model_fields["basis"].annotation),
        today=clinic_day.clinic_today(session, me.clinic_id, now), page="patients",
    )
