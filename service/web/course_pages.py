"""The psychiatrist's course dashboard: trajectory charts, MT and intensity, sessions against the prescription,
adverse events on the same time axis, authorization units, and the signed reviews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from config.course_templates import get_course_template
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.blockers import service as blockers
from service.bookings import extension
from service.documents import record as records
from service.documents import sessions_table
from service.models.users import Role
from service.protocols import dose_gate
from service.records import clinic_day
from service.signatures import repository as signatures
from service.signatures import service as signing
from service.signatures import signing_session, subjects
from service.signatures.schemas import SignaturePublic
from service.web import blocker_links, course_view
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]


def signatures_on(session: Session, clinic_id: int, subject: str, rows: list[Any]) -> dict[int, list[SignaturePublic]]:
    """Signatures per record id, each verified against the record as shown."""
    by_id = {r.id: r for r in rows}
    out: dict[int, list[SignaturePublic]] = {}
    for sig in signatures.for_subjects(session, clinic_id, subject, by_id):
        out.setdefault(sig.subject_id, []).append(signing.public(sig, by_id.get(sig.subject_id)))
    return out


def clearance_signatures(session: Session, clinic_id: int, screenings: list[dict[str, Any]]) -> dict[int, Any]:
    rows = [c for s in screenings for c in s["clearances"]]
    return signatures_on(session, clinic_id, "screening_clearance", rows)


def _blockers(session: Session, me: Principal, course: Any, now: Any) -> list[dict[str, Any]] | None:
    """What blocks treatment of an open course today (None for an ended course: nothing to clear)."""
    if course.status in ("completed", "discontinued"):
        return None
    found = blockers.for_patient(session, me, course.patient_id, course.id, now)["blockers"]
    return blocker_links.before_check_in(found) if isinstance(found, list) else []


@router.get("/courses/{course_id}")
def course_page(request: Request, course_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
                now: NowDep) -> Response:
    """One course at a glance, with its reviews to write and sign."""
    record = records.read(session, me, course_id, now, purpose="read")
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    context = {
        "r": record, "today": today, "page": "patients",
        "trajectories": course_view.trajectories(record, today),
        "intensity": course_view.intensity_chart(record), "ae_chart": course_view.ae_timeline(record, today),
        "rows": sessions_table.rows(record), "counts": sessions_table.counts(record),
        "ae_signatures": signatures_on(session, me.clinic_id, "adverse_event", record.adverse_events),
        "clearance_signatures": clearance_signatures(session, me.clinic_id, record.screenings),
        "meanings": {name: sorted(s.meanings) for name, s in subjects.SUBJECTS.items()},
        "signing_open": signing_session.is_open(session, me),
        "dose": dose_gate.verdict_or_none(session, record.course),
        "blockers": _blockers(session, me, record.course, now),
        "extension": extension.evaluate(session, me, course_id).public()
        if get_course_template(record.course.template_id).extension else None,
    }
    return render(request, "course.html", me, settings, **context)
