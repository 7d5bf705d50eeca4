"""The demo's patients for `make run`: one ready to treat today on each simulated chair, and a new referral.

"Ready" means every gate is met the way a clinic meets it, through the same services the API uses: a course
ordered and active, a clear safety screening, a motor threshold determined on the chair's device, a baseline
PHQ-9, a payer authorization, and a booking today. Each run adds what is missing, including a booking today
when a ready patient has none, so the demo can be treated on any day it is started.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from service.assessments import service as assessments
from service.assessments.schemas import AssessmentCreate
from service.auth.principal import Principal
from service.authorizations import service as authorizations
from service.authorizations.schemas import AuthorizationCreate, UnitGrant
from service.bookings import service as bookings
from service.chairs import repository as chairs
from service.courses import repository as course_repo
from service.courses import service as courses
from service.courses.schemas import CourseCreate, EligibilityException
from service.models.bookings import Booking
from service.models.courses import Course, CourseStatus
from service.models.patients import Patient
from service.motor_thresholds import service as motor_thresholds
from service.motor_thresholds.schemas import Method, MotorThresholdCreate, Muscle
from service.patients import repository as patients
from service.patients import service as patient_service
from service.patients.schemas import PatientCreate
from service.records import clinic_day
from service.screenings import service as screenings
from service.screenings.schemas import ScreeningCreate
from service.users import repository as users

# (MRN, given, family, born, sex, chair, protocol, MT % MSO); iTBS on Chair 2 takes about 3 minutes to deliver.
READY = (
    ("DEMO-0001", "Dana", "Demo", date(1975, 6, 1), "female", "Chair 1", "hf10_3000_iti26", 55.0),
    ("DEMO-0002", "Sam", "Sample", date(1968, 2, 14), "male", "Chair 2", "itbs_600", 48.0),
)
REFERRAL = ("DEMO-0003", "Nora", "Newman", date(1982, 9, 30), "female")
BASELINE_PHQ9 = [3, 2, 2, 2, 2, 2, 1, 2, 0, 1]


def _principal(session: Session, clinic_id: int, username: str) -> Principal:
    user = users.by_username(session, username)
    assert user is not None, f"demo account {username} is seeded first"
    return Principal(user.id or 0, user.username, user.display_name, user.role, clinic_id, 0, False)


def _patient(session: Session, who: Principal, mrn: str, given: str, family: str, born: date, sex: str,
             now: datetime) -> tuple[Patient, bool]:
    found = patients.by_mrn(session, who.clinic_id, mrn)
    if found is not None:
        return found, False
    data = PatientCreate(mrn=mrn, given_name=given, family_name=family, date_of_birth=born, sex=sex,
                         primary_diagnosis="F33.2", payer="Medicare", payer_member_id=f"1EG4-TE5-{mrn[-4:]}MK72",
                         referring_clinician="Dr. Rita Referrer")
    return patient_service.create(session, who, data, now), True


def _make_ready(session: Session, tech: Principal, psych: Principal, patient: Patient, protocol: str,
                chair_name: str, mt: float, today: date, now: datetime) -> None:
    """Order, screen, determine MT, take a baseline, activate and authorize: every gate met."""
    pid = patient.id or 0
    # The demo enters no medication trials, so the course carries the psychiatrist's documented exception.
    exception = EligibilityException(basis="clinical_judgement",
                                     reason="demo patient: eligibility evidence is not entered in the demo")
    course = courses.order(session, psych, CourseCreate(patient_id=pid, protocol_id=protocol, intensity_pct_mt=120,
                                                        window_start=time(8), window_end=time(18),
                                                        eligibility_exception=exception), now)
    cid = course.id or 0
    items = screenings.questionnaire()["items"]
    screenings.create(session, tech, pid, ScreeningCreate(course_id=cid, answers={i["id"]: "no" for i in items}), now)
    device = next(d for c, d in chairs.chairs_with_devices(session, tech.clinic_id) if c.name == chair_name and d)
    motor_thresholds.create(session, tech, pid, MotorThresholdCreate(
        determined_at=now - timedelta(minutes=30), method=Method.emg_relative_frequency, muscle=Muscle.APB,
        value_pct_mso=mt, device_id=device.id, course_id=cid), now)
    assessments.create(session, tech, pid, AssessmentCreate(
        instrument="PHQ-9", course_id=cid, items=list(BASELINE_PHQ9), administered_at=now - timedelta(minutes=20)),
        now)
    courses.change_status(session, psych, cid, CourseStatus.active, "screened, consented, MT determined", now)
    authorizations.create(session, psych, AuthorizationCreate(
        course_id=cid, payer="Medicare", number=f"MCR-DEMO-{pid:04d}", start_date=today,
        end_date=today + timedelta(days=120),
        units=[UnitGrant(cpt="90867", units=1), UnitGrant(cpt="90868", units=35),
               UnitGrant(cpt="90869", units=3)]), now)


def _book_today(session: Session, tech: Principal, patient: Patient, chair_name: str, start: datetime,
                tz: ZoneInfo, now: datetime) -> None:
    """A booking today on the patient's chair (the demo may start out of hours, so the calendar is not asked)."""
    course = session.exec(select(Course).where(
        Course.clinic_id == tech.clinic_id, Course.patient_id == patient.id,
        Course.status == CourseStatus.active.value)).first()
    chair = chairs.chair_by_name(session, tech.clinic_id, chair_name)
    if course is None or chair is None or chair.device_id is None:
        return
    last = session.exec(select(func.max(Booking.sequence)).where(Booking.course_id == course.id)).one() or 0
    phase = bookings.phase_of(course_repo.phases(session, course.id or 0), last + 1)
    booking = Booking(clinic_id=tech.clinic_id, course_id=course.id or 0, patient_id=patient.id or 0,
                      chair_id=chair.id or 0, device_id=chair.device_id, technician_id=tech.user_id,
                      authorization_id=None, start_at=start, end_at=start + bookings.slot(session, course),
                      phase_name=phase.name, phase_kind=phase.kind, sequence=last + 1, created_by=tech.user_id,
                      created_at=now, updated_at=now)
    auth = authorizations.for_booking(session, course, start.astimezone(tz).date())
    booking.authorization_id = auth.id if auth else None
    bookings.insert(session, tech.actor, booking, now)


def _booked_today(session: Session, clinic_id: int, patient_id: int, tz: ZoneInfo, today: date) -> bool:
    day_start = datetime.combine(today, time(0), tz)
    rows = session.exec(select(Booking.id).where(
        Booking.clinic_id == clinic_id, Booking.patient_id == patient_id,
        col(Booking.start_at) >= day_start, col(Booking.start_at) < day_start + timedelta(days=1))).all()
    return bool(rows)


def seed_patients(session: Session, clinic_id: int, technician: str, psychiatrist: str, now: datetime) -> None:
    """Ready patients with a booking today on each chair, and a new referral; only what is missing."""
    tech = _principal(session, clinic_id, technician)
    psych = _principal(session, clinic_id, psychiatrist)
    tz = ZoneInfo(clinic_day.clinic(session, clinic_id).timezone)
    today = clinic_day.clinic_today(session, clinic_id, now)
    # Start soon; late in the evening, earlier today instead, so the bookings stay on today's chair day.
    start = (now + timedelta(minutes=5)).replace(second=0, microsecond=0)
    if (start + timedelta(hours=1)).astimezone(tz).date() != today:
        start -= timedelta(hours=3)
    for n, (mrn, given, family, born, sex, chair_name, protocol, mt) in enumerate(READY):
        patient, created = _patient(session, tech, mrn, given, family, born, sex, now)
        if created:
            _make_ready(session, tech, psych, patient, protocol, chair_name, mt, today, now)
        if not _booked_today(session, clinic_id, patient.id or 0, tz, today):
            _book_today(session, tech, patient, chair_name, start + timedelta(minutes=50 * n), tz, now)
    _patient(session, tech, *REFERRAL, now)
