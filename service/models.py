"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from service.core.db import NAMING_CONVENTION

SQLModel.metadata.naming_convention = NAMING_CONVENTION

# clinical records (issue 4)
from service.adverse_events.models import AdverseEvent, ReportingTask  # noqa: E402
from service.assessments.models import Assessment, SuicideAlert  # noqa: E402
from service.audit.models import AuditEvent, AuditHead  # noqa: E402
from service.auth.models import AuthSession, LoginAttempt  # noqa: E402
from service.authorizations.models import Authorization, AuthorizationUnit  # noqa: E402
from service.bookings.models import Booking  # noqa: E402
from service.calendar.models import ClinicClosure, ClinicSchedule, TechnicianShift  # noqa: E402
from service.chairs.models import Chair, Device  # noqa: E402
from service.clinics.models import Clinic  # noqa: E402
from service.courses.models import Course, CoursePhase  # noqa: E402
from service.eligibility.models import EligibilityProfile  # noqa: E402
from service.medications.models import MedicationChange, MedicationTrial, PsychotherapyTrial  # noqa: E402
from service.motor_thresholds.models import MotorThreshold  # noqa: E402
from service.patients.models import Patient  # noqa: E402
from service.protocols.models import ProtocolOverride  # noqa: E402
from service.reviews.models import JobRun, ReviewFlag  # noqa: E402
from service.screenings.models import Screening, ScreeningCheck, ScreeningClearance  # noqa: E402
from service.sessions.models import (  # noqa: E402
    ChairCommand,
    ChairStatus,
    DeliveryEventRow,
    SessionTrain,
    TreatmentSession,
)
from service.signatures.models import CourseReview, Signature  # noqa: E402
from service.users.models import User  # noqa: E402

metadata = SQLModel.metadata

__all__ = [
    "AuditEvent", "AuditHead", "AuthSession", "Chair", "Clinic", "Course", "Device", "LoginAttempt", "Patient", "User",
    "metadata",
    # scheduling (issue 5)
    "Authorization", "AuthorizationUnit", "Booking", "ClinicClosure", "ClinicSchedule", "CoursePhase", "JobRun",
    "ReviewFlag", "TechnicianShift",
    # clinical records (issue 4)
    "AdverseEvent", "Assessment", "EligibilityProfile", "MedicationChange", "MedicationTrial", "MotorThreshold",
    "ProtocolOverride", "PsychotherapyTrial", "ReportingTask", "Screening", "ScreeningCheck", "ScreeningClearance",
    "SuicideAlert",
    # treatment sessions (issue 6)
    "ChairCommand", "ChairStatus", "DeliveryEventRow", "SessionTrain", "TreatmentSession",
    # signatures (issue 7)
    "CourseReview", "Signature",
]
