"""Assessment rules: validated, scored against the course baseline, suicide items raise alerts; all audited."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.assessments import repository
from service.assessments.schemas import AlertResponse, AssessmentCreate
from service.audit import service as audit
from service.auth.principal import Principal
from service.core import validation
from service.core.errors import NotFound
from service.core.stamp import stamped
from service.models.assessments import Assessment, SuicideAlert
from service.models.courses import Course
from service.patients import service as patients
from service.records import amendments, clinic_day
from service.rules import scales

ENTITY = "assessment"
ALERT = "suicide_alert"
# A course's baseline is taken within this window before its first day: an older score is history, not a
# baseline (a month is the usual pre-treatment window; docs/eligibility-and-checklist.md).
BASELINE_WINDOW = timedelta(days=30)


def _course_start(session: Session, course: Course) -> datetime | None:
    """The end of the course's first calendar day (a score that day counts as pre-course until session 1 begins,
    see ``baseline_for``)."""
    if course.start_date is None:
        return None
    tz = ZoneInfo(clinic_day.clinic(session, course.clinic_id).timezone)
    return datetime.combine(course.start_date, time.max, tzinfo=tz)


def baseline_for(
    session: Session, clinic_id: int, patient_id: int, course: Course, instrument: str, at: datetime
) -> Assessment | None:
    """The course baseline: its own first score on this instrument taken before treatment, that is at most
    ``BASELINE_WINDOW`` before the course's first day, no later than that day, and before its first session began
    (a score taken after session 1, even the same day, is a response to it). A score of another course is never
    this course's baseline.

    Before the first day is known every score of the course before its first session counts as pre-treatment.
    """
    start = _course_start(session, course)
    first_session = repository.first_session_start(session, clinic_id, course.id or 0)
    before = min(moment for moment in (start, first_session, at) if moment is not None)
    return repository.first_of_course(session, clinic_id, patient_id, course.id or 0, instrument, before,
                                      since=None if start is None else start - BASELINE_WINDOW)


def _score(
    session: Session, who: Principal, patient_id: int, data: AssessmentCreate, administered_at: datetime,
) -> tuple[Any, Any]:
    with validation.field_errors():
        inst = scales.definition(data.instrument)
    baseline = None
    if data.course_id is not None:
        course = clinic_day.course_for_patient(session, who.clinic_id, patient_id, data.course_id)
        baseline = baseline_for(session, who.clinic_id, patient_id, course, inst.id, administered_at)
    with validation.field_errors():
        result = scales.score(inst.id, data.items, baseline_total=baseline.total if baseline else None)
    return result, baseline


def create(session: Session, who: Principal, patient_id: int, data: AssessmentCreate, now: datetime) -> Assessment:
    """Score and store one administration; suicide items above threshold open alerts for the psychiatrist."""
    administered_at = stamped(data.administered_at, now)
    patients.get_or_404(session, who, patient_id)
    today = clinic_day.clinic_today(session, who.clinic_id, now)
    validation.require_past("administered_at", administered_at, now, today)
    result, baseline = _score(session, who, patient_id, data, administered_at)
    row = Assessment(
        clinic_id=who.clinic_id, patient_id=patient_id, course_id=data.course_id, instrument=result.instrument,
        definition_version=result.definition_version, administered_at=administered_at, items=list(data.items),
        total=result.total, max_total=result.max_total, severity=result.severity,
        baseline_assessment_id=baseline.id if baseline else None, baseline_total=result.baseline_total,
        percent_change=result.percent_change, response=result.response, remission=result.remission,
        item_codes=[vars(c) for c in result.item_codes], total_code=result.total_code, panel_code=result.panel_code,
        domain_scores=[list(d) for d in result.domain_scores], reasons=list(result.reasons),
        entered_by=who.user_id, created_at=now,
    )
    amendments.created(session, who, row, entity=ENTITY, patient_id=patient_id, now=now)
    for a in result.alerts:
        alert = SuicideAlert(clinic_id=who.clinic_id, patient_id=patient_id, assessment_id=row.id or 0,
                             instrument=a.instrument, item_number=a.item_number, value=a.value,
                             threshold=a.threshold, message=a.message, raised_at=now)
        amendments.created(session, who, alert, entity=ALERT, patient_id=patient_id, now=now)
    return row


def public(session: Session, rows: list[Assessment]) -> list[dict[str, Any]]:
    """Assessments with their alerts attached."""
    alerts = repository.alerts_for_assessments(session, [r.id for r in rows if r.id is not None])
    return [r.model_dump() | {"alerts": [a for a in alerts if a.assessment_id == r.id]} for r in rows]


def history(
    session: Session, who: Principal, patient_id: int, now: datetime, *,
    instrument: str | None = None, course_id: int | None = None,
) -> list[Assessment]:
    """A patient's assessments (the trajectory), oldest first; the read is audited."""
    patients.get_or_404(session, who, patient_id)
    if instrument is not None:
        with validation.field_errors():
            instrument = scales.definition(instrument).id
    rows = repository.for_patient(session, who.clinic_id, patient_id, instrument=instrument, course_id=course_id)
    amendments.read_audit(session, who, entity=ENTITY, patient_id=patient_id, now=now,
                       detail={"returned": [r.id for r in rows]})
    return rows


def alerts(session: Session, who: Principal, now: datetime, *, status: str | None) -> list[SuicideAlert]:
    """The clinic's suicide-risk alerts (the review queue); the listing is audited."""
    rows = repository.alerts(session, who.clinic_id, status=status)
    audit.record(session, who.actor, at=now, action="list", entity=ALERT,
                 new={"status": status, "returned": [a.id for a in rows]})
    return rows


def respond(session: Session, who: Principal, alert_id: int, data: AlertResponse, now: datetime) -> SuicideAlert:
    """A psychiatrist's documented response closes the alert (it no longer blocks treatment)."""
    alert = repository.alert(session, who.clinic_id, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    if alert.status != "open":
        raise validation.conflict("status", f"alert {alert_id} already has a response ({alert.responded_at})")
    alert.status, alert.response_note = "responded", data.note
    alert.responded_by, alert.responded_at = who.user_id, now
    session.add(alert)
    session.flush()
    audit.record(session, who.actor, at=now, action="respond", entity=ALERT, entity_id=alert.id,
                 patient_id=alert.patient_id, old={"status": "open"},
                 new={"status": "responded", "response_note": data.note})
    return alert


def open_alerts(session: Session, clinic_id: int, patient_id: int) -> list[SuicideAlert]:
    """The patient's alerts still waiting for a psychiatrist (for the treatment gate)."""
    return repository.alerts(session, clinic_id, status="open", patient_id=patient_id)
