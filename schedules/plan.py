"""Data of a planning request and its result (frozen, I/O-free)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from config.course_templates import PhaseTemplate

# Reason codes: every unplaced session carries "<code>: <sentence>" naming the constraint that failed.
CALENDAR = "calendar"
PAST = "past"
AUTHORIZATION_START = "authorization_start"
AUTHORIZATION_END = "authorization_end"
AUTHORIZATION_UNITS = "authorization_units"
CAPABILITY = "capability"
WINDOW = "window"
INTERVAL = "interval"
DAILY_LIMIT = "daily_limit"
TECHNICIAN_SHIFT = "technician_shift"
PATIENT_BUSY = "patient_busy"
SLOTS_TAKEN = "slots_taken"


def reason(code: str, sentence: str) -> str:
    """One reason string: the constraint code, then a sentence a clinic coordinator understands."""
    return f"{code}: {sentence}"


def reason_code(text: str) -> str:
    """The constraint code of a reason string."""
    return text.split(":", 1)[0]


@dataclass(frozen=True)
class TimeWindow:
    """A local wall-clock window on each day, [start, end)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"time window must start before it ends: {self.start}-{self.end}")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class AuthorizationLimit:
    """A payer authorization: local date window (inclusive) and session units (CPT 90868, one per session)."""

    start: date
    end: date
    units: int
    units_used: int = 0
    number: str | None = None



@dataclass(frozen=True)
class PlanRequest:
    """What to plan: a course's phases for one patient on one protocol, from ``start_date``."""

    course_id: str
    patient_id: str
    protocol: str
    phases: tuple[PhaseTemplate, ...]
    start_date: date
    session_minutes: int
    setup_buffer_minutes: int = 10
    window: TimeWindow | None = None
    authorization: AuthorizationLimit | None = None
    slot_step_minutes: int = 5
    first_index: int = 1

    def __post_init__(self) -> None:
        if self.session_minutes <= 0 or self.setup_buffer_minutes < 0 or self.slot_step_minutes <= 0:
            raise ValueError("session minutes and slot step must be positive, set-up buffer >= 0")

    @property
    def slot_minutes(self) -> int:
        """Length a booking holds its resources: the protocol's session plus the set-up buffer."""
        return self.session_minutes + self.setup_buffer_minutes

    @property
    def total_sessions(self) -> int:
        """Sessions requested across all phases."""
        return sum(p.sessions for p in self.phases)

    def phase_of(self, index: int) -> int:
        """The position of the phase that session ``index`` belongs to (the last phase past the end)."""
        bound = self.first_index
        for n, phase in enumerate(self.phases):
            bound += phase.sessions
            if index < bound:
                return n
        return len(self.phases) - 1


@dataclass(frozen=True)
class PlannedSession:
    """A placed session: UTC [start, end) holds chair, device, technician and patient."""

    index: int
    phase_index: int
    phase_name: str
    phase_kind: str
    day: date
    start: datetime
    end: datetime
    chair_id: str
    device_id: str
    technician_id: str


@dataclass(frozen=True)
class Unplaced:
    """A session the planner could not place, with every constraint that stopped it."""

    index: int
    phase: str
    wanted_date: date
    reasons: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """The constraint codes of the reasons."""
        return tuple(reason_code(r) for r in self.reasons)


@dataclass(frozen=True)
class PlanResult:
    """Placed and unplaced sessions (together, exactly the requested ones) and warnings."""

    placed: tuple[PlannedSession, ...]
    unplaced: tuple[Unplaced, ...]
    warnings: tuple[str, ...] = ()

    @property
    def indices(self) -> tuple[int, ...]:
        """Every session index the result accounts for, sorted."""
        return tuple(sorted([s.index for s in self.placed] + [u.index for u in self.unplaced]))
