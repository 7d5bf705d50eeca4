"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from service.core.db import NAMING_CONVENTION

SQLModel.metadata.naming_convention = NAMING_CONVENTION

# every domain's tables, by package name
from service.models.adverse_events import AdverseEvent, ReportingTask  # noqa: E402
from service.models.assessments import Assessment, SuicideAlert  # noqa: E402
from service.models.audit import AuditEvent, AuditHead  # noqa: E402
from service.models.auth import AuthSession, LoginAttempt  # noqa: E402
from service.models.authorizations import Authorization, AuthorizationUnit  # noqa: E402
from service.models.bookings import Booking  # noqa: E402
from service.models.calendar import ClinicClosure, ClinicSchedule, TechnicianShift  # noqa: E402
from service.models.chairs import Chair, Device  # noqa: E402
from service.models.clinics import Clinic  # noqa: E402
from service.models.courses import Course, CoursePhase  # noqa: E402
from service.models.eligibility import EligibilityProfile  # noqa: E402
from service.models.flags import ReviewFlag  # noqa: E402
from service.models.jobs import JobRun  # noqa: E402
from service.models.medications import MedicationChange, MedicationTrial, PsychotherapyTrial  # noqa: E402
from service.models.motor_thresholds import MotorThreshold  # noqa: E402
from service.models.patients import Patient  # noqa: E402
from service.models.protocols import ProtocolOverride  # noqa: E402
from service.models.screenings import Screening, ScreeningClearance  # noqa: E402
from service.models.sessions import (  # noqa: E402
    ChairCommand,
    ChairStatus,
    DeliveryEventRow,
    SessionTrain,
    TreatmentSession,
)
from service.models.signatures import CourseReview, Signature  # noqa: E402
from service.models.users import User  # noqa: E402

metadata = SQLModel.metadata

__all__ = [
    "AuditEvent", "AuditHead", "AuthSession", "Chair", "Clinic", "Course", "Device", "LoginAttempt", "Patient", "User",
    "metadata",
    # scheduling
    "Authorization", "AuthorizationUnit", "Booking", "ClinicClosure", "ClinicSchedule", "CoursePhase", "JobRun",
    "ReviewFlag", "TechnicianShift",
    # clinical records
    "AdverseEvent", "Assessment", "EligibilityProfile", "MedicationChange", "MedicationTrial", "MotorThreshold",
    "ProtocolOverride", "PsychotherapyTrial", "ReportingTask", "Screening", "ScreeningClearance", "SuicideAlert",
    # treatment sessions
    "ChairCommand", "ChairStatus", "DeliveryEventRow", "SessionTrain", "TreatmentSession",
    # signatures
    "CourseReview", "Signature",
]
