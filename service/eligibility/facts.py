"""Build the eligibility rule's facts from the stored records: patient, history, assessments, courses, profile."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from service.assessments import repository as assessments
from service.assessments import service as scores
from service.core.clock import as_utc
from service.eligibility import repository
from service.medications import repository as history
from service.medications import service as medications
from service.models.assessments import Assessment
from service.models.courses import Course
from service.models.eligibility import EligibilityProfile
from service.models.medications import MedicationTrial, PsychotherapyTrial
from service.models.patients import Patient
from service.records import clinic_day
from service.rules import scales
from service.rules.eligibility import BaselineScore, EligibilityFacts, PriorCourse
from service.rules.eligibility import PsychotherapyTrial as Therapy

ENDED = ("completed", "discontinued")


def age_on(born: date, today: date) -> int:
    """Age in whole years."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _pre_treatment(a: Assessment, courses: dict[int, Course], local_day: date) -> bool:
    """A score taken before treatment: not linked to a course, or on/before its first day, or the course not begun."""
    course = courses.get(a.course_id) if a.course_id is not None else None
    if course is None:
        return True
    return course.status == "planned" or course.start_date is None or local_day <= course.start_date


def baseline_scores(session: Session, patient: Patient, courses: list[Course]) -> tuple[BaselineScore, ...]:
    """The latest pre-treatment score on each instrument."""
    by_id = {c.id or 0: c for c in courses}
    latest: dict[str, BaselineScore] = {}
    for a in assessments.for_patient(session, patient.clinic_id, patient.id or 0):
        day = clinic_day.local_now(session, patient.clinic_id, as_utc(a.administered_at)).date()
        if _pre_treatment(a, by_id, day):
            latest[a.instrument] = BaselineScore(a.instrument, a.total, day)
    return tuple(latest.values())


def _course_response(session: Session, course: Course) -> tuple[str, float] | None:
    """The course's response on its depression scale: the last score's change from the course's own baseline on
    the same instrument (the scale whose baseline came first, when the course used several); GAD-7 never counts."""
    rows = assessments.for_patient(session, course.clinic_id, course.patient_id, course_id=course.id)
    best: tuple[Assessment, str, float] | None = None
    for instrument in dict.fromkeys(a.instrument for a in rows):
        if scales.definition(instrument).measures != "depression":
            continue
        last = [a for a in rows if a.instrument == instrument][-1]
        base = scores.baseline_for(session, course.clinic_id, course.patient_id, course, instrument,
                                   as_utc(last.administered_at))
        if base is None or base.id == last.id or base.total == 0:
            continue
        improvement = round((base.total - last.total) * 100 / base.total, 1)
        if best is None or (base.administered_at, base.id or 0) < (best[0].administered_at, best[0].id or 0):
            best = (base, instrument, improvement)
    return (best[1], best[2]) if best else None


def prior_courses(session: Session, patient: Patient, courses: list[Course],
                  profile: EligibilityProfile | None) -> tuple[PriorCourse, ...]:
    """Ended courses with their response on a standardised depression scale, from each course's own baseline."""
    found = []
    for course in courses:
        if course.status not in ENDED or course.end_date is None:
            continue
        response = _course_response(session, course)
        if response is None:
            continue
        found.append(PriorCourse(end_date=course.end_date, improvement_pct=response[1],
                                 sustained_days=profile.prior_response_sustained_days if profile else None,
                                 relapsed=profile.relapse_documented if profile else None, instrument=response[0]))
    return tuple(found)


def _therapies(rows: list[PsychotherapyTrial], episode: int) -> tuple[Therapy, ...]:
    return tuple(Therapy(r.modality, r.start_date, r.stop_date, r.outcome)  # type: ignore[arg-type]
                 for r in rows if r.episode == episode)


def build(session: Session, patient: Patient, today: date) -> EligibilityFacts:
    """Everything the payer criteria read, from what is stored for the patient."""
    clinic_id, pid = patient.clinic_id, patient.id or 0
    profile = repository.profile(session, clinic_id, pid)
    episode = profile.episode if profile else 1
    courses = repository.courses(session, clinic_id, pid)
    trials = history.for_patient(session, MedicationTrial, clinic_id, pid, include_void=False)
    therapies = history.for_patient(session, PsychotherapyTrial, clinic_id, pid, include_void=False)
    prior = prior_courses(session, patient, courses, profile)
    open_retreatment = any(c.kind == "retreatment" and c.status not in ENDED for c in courses)
    return EligibilityFacts(
        age_years=age_on(patient.date_of_birth, today),
        diagnosis_codes=(patient.primary_diagnosis,),
        baseline_scores=baseline_scores(session, patient, courses),
        medication_trials=tuple(medications.rule_trial(t) for t in trials if t.episode == episode),
        psychotherapy_trials=_therapies(therapies, episode),
        psychiatrist_evaluation=profile.psychiatrist_evaluation if profile else None,
        conditions=dict(profile.conditions) if profile else {},
        ect_status=profile.ect_status if profile else None,  # type: ignore[arg-type]
        prior_courses=prior,
        is_retreatment=bool(prior) or open_retreatment,
        documented=frozenset(profile.documented) if profile else frozenset(),
    )
