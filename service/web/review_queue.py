"""The psychiatrist's review queue, safety first: every section reads the rows other services keep.

Order: open suicide-risk alerts, serious adverse events, relative contraindications awaiting clearance,
custom-protocol overrides, courses flagged for gaps, authorizations about to run out, courses awaiting
their weekly or end-of-course review, records awaiting a signature (signed one by one or as a batch), then the
other open flags.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from service.api.deps import NowDep, SessionDep, SettingsDep
from service.audit import service as audit
from service.auth.principal import Principal
from service.authorizations import service as authorizations
from service.models.adverse_events import AdverseEvent
from service.models.assessments import SuicideAlert
from service.models.authorizations import Authorization
from service.models.courses import Course
from service.models.flags import ReviewFlag
from service.models.patients import Patient
from service.models.protocols import ProtocolOverride
from service.models.screenings import Screening
from service.models.signatures import SignatureStatus
from service.models.users import Role
from service.records import clinic_day
from service.sessions import lost_chairs
from service.signatures import repository as signatures
from service.signatures import signing_session
from service.web import awaiting_signature
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
PsychiatristPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist))]
AUTH_LOW_SESSIONS = 5  # sessions left at which an authorization counts as running out
AUTH_LOW_DAYS = 7  # days before its end date
REVIEW_EVERY_DAYS = 7
GAP_KINDS = ("gap", "missed_session")
AUTH_KINDS = ("authorization_low", "authorization_crossed")


def _all(session: Session, model: Any, *where: Any) -> list[Any]:
    return list(session.exec(select(model).where(*where).order_by(col(model.id))).all())


def _auth_running_out(session: Session, clinic_id: int, today: date) -> list[dict[str, Any]]:
    rows = _all(session, Authorization, Authorization.clinic_id == clinic_id, Authorization.status == "active",
                col(Authorization.end_date) >= today)
    out = []
    for a in rows:
        left = authorizations.usage(session, a)["sessions"]
        if left["remaining"] <= AUTH_LOW_SESSIONS or a.end_date <= today + timedelta(days=AUTH_LOW_DAYS):
            out.append({"auth": a, "sessions": left, "patient_id": a.patient_id, "course_id": a.course_id})
    return out


def _signed_reviews(session: Session, clinic_id: int, course_ids: list[int]) -> dict[int, list[Any]]:
    reviews = signatures.reviews_of_clinic(session, clinic_id, course_ids)
    signed = {s.subject_id: s for s in signatures.for_subjects(session, clinic_id, "course_review",
                                                               [r.id or 0 for r in reviews])
              if s.status == SignatureStatus.valid.value}
    by_course: dict[int, list[Any]] = {}
    for r in reviews:
        if r.id in signed:
            by_course.setdefault(r.course_id, []).append((r, signed[r.id]))
    return by_course


def _awaiting_review(session: Session, clinic_id: int, now: datetime) -> list[dict[str, Any]]:
    """Active courses without a signed weekly review in the last week; ended courses without a signed summary."""
    courses = _all(session, Course, Course.clinic_id == clinic_id,
                   col(Course.status).in_(("active", "completed", "discontinued")))
    signed = _signed_reviews(session, clinic_id, [c.id or 0 for c in courses])
    out = []
    for c in courses:
        mine = signed.get(c.id or 0, [])
        if c.status == "active":
            recent = [s for r, s in mine if r.kind == "weekly"
                      and clinic_day.local_now(session, clinic_id, s.signed_at) >= clinic_day.local_now(
                          session, clinic_id, now) - timedelta(days=REVIEW_EVERY_DAYS)]
            if not recent:
                out.append({"course": c, "patient_id": c.patient_id, "due": "weekly review"})
        elif not any(r.kind == "end_of_course" for r, _ in mine):
            out.append({"course": c, "patient_id": c.patient_id, "due": "end-of-course summary"})
    return out


def build(session: Session, me: Principal, now: datetime) -> dict[str, list[Any]]:
    """Every section of the queue for the caller's clinic."""
    cid = me.clinic_id
    today = clinic_day.clinic_today(session, cid, now)
    flags = _all(session, ReviewFlag, ReviewFlag.clinic_id == cid, col(ReviewFlag.resolved_at).is_(None))
    return {
        "alerts": _all(session, SuicideAlert, SuicideAlert.clinic_id == cid, SuicideAlert.status == "open"),
        "serious": _all(session, AdverseEvent, AdverseEvent.clinic_id == cid, col(AdverseEvent.serious).is_(True),
                        AdverseEvent.status == "open"),
        "clearances": _all(session, Screening, Screening.clinic_id == cid, Screening.status == "needs_clearance"),
        "overrides": [o for o in _all(session, ProtocolOverride, ProtocolOverride.clinic_id == cid)
                      if clinic_day.local_now(session, cid, o.signed_at).date() >= today - timedelta(days=90)],
        "gaps": [f for f in flags if f.kind in GAP_KINDS],
        "authorizations": _auth_running_out(session, cid, today) + [f for f in flags if f.kind in AUTH_KINDS],
        "reviews": _awaiting_review(session, cid, now),
        "other": [f for f in flags if f.kind not in GAP_KINDS + AUTH_KINDS],
    }


def _patients(session: Session, clinic_id: int, sections: dict[str, list[Any]]) -> dict[int, Patient]:
    ids = {getattr(x, "patient_id", None) or (x.get("patient_id") if isinstance(x, dict) else None)
           for rows in sections.values() for x in rows}
    ids.discard(None)
    rows = _all(session, Patient, Patient.clinic_id == clinic_id, col(Patient.id).in_(ids))
    return {p.id or 0: p for p in rows}


@router.get("/review")
def review_queue(request: Request, me: PsychiatristPage, session: SessionDep, settings: SettingsDep,
                 now: NowDep) -> Response:
    """What needs a psychiatrist, safety alerts first."""
    lost_chairs.sweep(session, me.clinic_id, now, settings.agent_lost_after_s)  # lost chairs' sessions listed
    sections = build(session, me, now)
    sections["unsigned"] = awaiting_signature.build(session, me.clinic_id)
    names = _patients(session, me.clinic_id, sections)
    audit.record(session, me.actor, at=now, action="list", entity="review_queue",
                 new={k: len(v) for k, v in sections.items()})
    return render(request, "review.html", me, settings, s=sections, names=names, page="review",
                  tzname=clinic_day.clinic(session, me.clinic_id).timezone,
                  signing_open=signing_session.is_open(session, me))
