"""An independent model of what each treatment gate should say, written from the clinical rules.

The interlock machine (test_interlock_machine.py) keeps one ``World`` per example and asks it, before every
start, what the service must answer. Nothing here calls the service's rule code: the numbers and rules are
restated from docs/clinical-rules.md and the clinic's data files they were encoded in:

- screening per course; implants within 30 cm and cochlear implants are absolute contraindications, other
  "yes" answers need a psychiatrist's clearance; "unsure" about an absolute item counts as "yes" until a
  clinician records the checked answer (a note never clears it; #unsure-answers); a medication change after the
  screen makes it stale (#rescreening, #contraindications);
- a serious adverse event (a seizure is serious by default) blocks until a psychiatrist clears it
  (#severity-and-seriousness);
- an open PHQ-9 item-9 alert blocks until a psychiatrist responds (#suicide-items);
- the motor threshold is re-determined weekly, every 5 sessions, after a gap of more than 7 days, after a change
  of CNS-active medication (benzodiazepines, anticonvulsants, bupropion, stimulants, antipsychotics, lithium)
  and after sleep loss, substance use or an unusual response reported at check-in (#mt-redetermination;
  config/clinical/motor_threshold.json); an event dated the day of the determination precedes it;
- a payer's authorisation must be in force today with units left (#missed-sessions-and-gaps);
- standard 10 Hz allows one session a day (#sessions-per-day), counted by when sessions really started;
- hearing protection and a confirmed coil position every session (#pre-session-checklist); sleep loss, alcohol
  or drugs, a medication change, new symptoms and a seizure or fainting since the last session wait for a clinician's
  acknowledgement with a note, which stands while the answer stays "yes";
- a course is ordered with eligibility under its criteria set or a documented exception (#eligibility-exception);
  the machine orders with an exception, so ``eligibility_undocumented`` never arises;
- the dose is % MT × MT and is refused above the device's 100%;
- an MT in % of machine output belongs to the stimulator and coil it was measured on (docs/dose-safety.md): at
  the chair only an MT determined on the chair's own unit counts, and none there blocks (CPT 90869);
- the 10 Hz protocol's 4 s trains meet the IFCN single-train table (Rossi 2009 Table 4): 5 s up to 110% MT,
  4.2 s at 120%, 2.9 s at 130%, no cell above 130%; a course is never set to an intensity whose cell is
  shorter than its trains (no signed override in this machine);
- a resumed session is one dose: the rest is sent only at the output the session started with, which the MT
  in force at the chair must still give (the device's 100% still applies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")  # the clinic's time zone (the default for a new clinic)
OPENING_HOUR = 9  # the machine's day starts at 09:00 local and moves in two-hour steps
LAST_SLOT_HOUR = 15  # a 48-minute slot at 15:00 still ends well before closing

MT_MAX_AGE_DAYS = 7
MT_MAX_SESSIONS = 5
MT_MAX_GAP_DAYS = 7
SESSIONS_PER_DAY = 1  # hf10_3000_iti26
INTENSITY_PCT_MT = 120
DEVICE_MAX_PCT = 100
TRAIN_S = 4  # hf10_3000_iti26: 10 Hz, 4 s trains, 26 s apart
# Rossi 2009 Table 4, the 10 Hz row: longest train (s) per intensity column (% MT); nothing above 130%.
TEN_HZ_MAX_TRAIN_S = {90: 5.0, 100: 5.0, 110: 5.0, 120: 4.2, 130: 2.9}

# The drugs the machine changes; whether the MT rule counts them CNS-active: docs/clinical-rules.md#mt-redetermination.
CNS_ACTIVE = {"bupropion": True, "lorazepam": True, "sertraline": False}
ABSOLUTE_ITEMS = ("implant_within_30cm", "cochlear_implant")
RELATIVE_ITEMS = ("seizure_history", "seizure_threshold_drugs", "pregnancy")
CHECKLIST_ITEMS = ("hearing_protection", "sleep_loss", "alcohol_or_drugs", "caffeine", "medication_change",
                   "new_symptoms", "seizure_or_fainting", "coil_position_confirmed")
MUST_BE_YES = ("hearing_protection", "coil_position_confirmed")  # a "no" keeps the session from being ready
REVIEW_ITEMS = ("sleep_loss", "alcohol_or_drugs", "medication_change", "new_symptoms", "seizure_or_fainting")
MT_TRIGGER_ITEMS = ("sleep_loss", "alcohol_or_drugs", "new_symptoms", "medication_change")

STARTED = ("programming", "completed", "interrupted")  # sessions the device was programmed for
DELIVERED = ("completed", "interrupted")  # pulses were given
PENDING_BOOKING = ("booked", "checked_in", "in_progress")
RESUME_EXEMPT = {"protocol_daily_limit", "protocol_min_interval", "authorization_exhausted"}


def local(moment: datetime) -> datetime:
    return moment.astimezone(TZ)


def at_local(day: date, hour: int) -> datetime:
    """``hour``:00 local on ``day`` as an aware datetime (converted by callers as needed)."""
    return datetime.combine(day, time(hour), TZ)


@dataclass
class Screen:
    completed_on: date
    absolute: frozenset[str]
    relative: frozenset[str]
    incomplete: bool
    id: int = 0
    cleared: set[str] = field(default_factory=set)
    unsure: frozenset[str] = frozenset()  # absolute items answered "unsure"
    checked: dict[str, str] = field(default_factory=dict)  # the clinician's checked answer to an unsure item

    @property
    def contraindicated(self) -> bool:
        """An absolute "yes", or an unsure absolute item not yet checked (or checked "yes")."""
        return bool(self.absolute) or any(self.checked.get(item, "yes") == "yes" for item in self.unsure)


@dataclass
class Authorization:
    id: int
    start: date
    end: date
    units: int
    withdrawn: bool = False


@dataclass
class Session:
    id: int
    status: str = "checked_in"
    answers: dict[str, str] | None = None
    acknowledged: set[str] = field(default_factory=set)  # checklist answers a clinician acknowledged
    started_at: datetime | None = None
    programs: int = 0  # deliver commands the service may have queued for it
    stops: int = 0
    trains_left: int = 0  # of the program the chair agent took
    output: int = 0  # % of machine output the session started at
    intensity: float = 0  # % MT it was prescribed at then


@dataclass
class Booking:
    id: int
    start: datetime
    auth_id: int | None
    status: str = "booked"
    session: Session | None = None


@dataclass
class MotorThreshold:
    determined_at: datetime
    value: float
    on_chair_unit: bool = True  # measured on the chair's stimulator and coil (else on another unit)


@dataclass
class AdverseEvent:
    id: int
    serious: bool
    cleared: bool = False


@dataclass
class World:
    """What the clinic has recorded for one patient and course, and what the gates should make of it."""

    now: datetime
    payer: bool
    course_active: bool = True
    screens: list[Screen] = field(default_factory=list)
    medication_changes: list[tuple[date, bool]] = field(default_factory=list)  # (changed_on, CNS-active)
    mts: list[MotorThreshold] = field(default_factory=list)
    events: list[AdverseEvent] = field(default_factory=list)
    open_alerts: set[int] = field(default_factory=set)
    auth: Authorization | None = None
    bookings: list[Booking] = field(default_factory=list)
    intensity: float = INTENSITY_PCT_MT  # the course's prescription, % MT

    @property
    def today(self) -> date:
        return local(self.now).date()

    @property
    def sessions(self) -> list[Session]:
        return [b.session for b in self.bookings if b.session is not None]

    def booking_of(self, session: Session) -> Booking:
        return next(b for b in self.bookings if b.session is session)

    # --- the gates -------------------------------------------------------------------------------------

    def blockers(self, session: Session, *, resuming: bool = False) -> set[str]:
        """Every reason treatment must not start for ``session`` now (its checklist answers included)."""
        answers = session.answers
        found = (self._screening(answers) | self._events() | self._mt(answers) | self._course()
                 | self._authorization() | self._spacing(session) | self._checklist(answers, session.acknowledged))
        return found - RESUME_EXEMPT if resuming else found

    def _screening(self, answers: dict[str, str] | None) -> set[str]:
        if not self.screens:
            return {"screening_missing"}
        screen = self.screens[-1]  # the newest screen of the course supersedes the earlier ones
        found = set()
        if screen.contraindicated:
            found.add("screening_absolute_contraindication")
        if screen.incomplete:
            found.add("screening_incomplete")
        if screen.relative - screen.cleared:
            found.add("screening_uncleared")
        changes = [d for d, _ in self.medication_changes]
        if (answers or {}).get("medication_change") == "yes":
            changes.append(self.today)
        if any(d > screen.completed_on for d in changes):
            found.add("screening_stale")
        return found

    def _events(self) -> set[str]:
        found = set()
        if any(e.serious and not e.cleared for e in self.events):
            found.add("adverse_event_uncleared")
        if self.open_alerts:
            found.add("suicide_alert_open")
        return found

    @property
    def chair_mt(self) -> MotorThreshold | None:
        """The MT in force at the chair: the newest measured on its own unit."""
        mine = [m for m in self.mts if m.on_chair_unit]
        return mine[-1] if mine else None

    def _mt(self, answers: dict[str, str] | None) -> set[str]:
        mt = self.chair_mt
        if mt is None:
            return {"mt_missing_for_device"}
        determined = local(mt.determined_at).date()
        today = self.today
        used = sorted(d for d in self.delivered_dates() if d >= determined)
        points = [determined, *used, today]
        reported_today = any((answers or {}).get(item) == "yes" for item in MT_TRIGGER_ITEMS)
        stale = (
            (today - determined).days >= MT_MAX_AGE_DAYS
            or len(used) >= MT_MAX_SESSIONS
            or max((b - a).days for a, b in zip(points, points[1:], strict=False)) > MT_MAX_GAP_DAYS
            or any(cns and changed_on > determined for changed_on, cns in self.medication_changes)
            or (reported_today and today > determined)
        )
        return {"mt_stale"} if stale else set()

    def _course(self) -> set[str]:
        return set() if self.course_active else {"course_not_active"}

    def _authorization(self) -> set[str]:
        if not self.payer:
            return set()  # self-pay: no payer authorisation needed
        auth = self.auth
        if auth is None or auth.withdrawn:
            return {"authorization_missing"}
        found = set()
        if self.today < auth.start:
            found.add("authorization_not_started")
        if self.today > auth.end:
            found.add("authorization_expired")
        if self.units_used(auth) >= auth.units:
            found.add("authorization_exhausted")
        return found

    def _spacing(self, session: Session) -> set[str]:
        """One session a day, counted by when the device really started, not when the booking said."""
        today = [s for s in self.sessions if s is not session and s.status in STARTED and s.started_at is not None
                 and local(s.started_at).date() == self.today]
        return {"protocol_daily_limit"} if len(today) >= SESSIONS_PER_DAY else set()

    @staticmethod
    def _checklist(answers: dict[str, str] | None, acknowledged: set[str]) -> set[str]:
        answers = answers or {}
        found = set()
        if any(item not in answers for item in CHECKLIST_ITEMS):
            found.add("checklist_incomplete")
        if any(answers.get(item) == "no" for item in MUST_BE_YES):
            found.add("checklist_failed")
        if any(answers.get(item) == "yes" and item not in acknowledged for item in REVIEW_ITEMS):
            found.add("checklist_needs_review")
        return found

    @staticmethod
    def to_acknowledge(session: Session) -> list[str]:
        """The session's checklist answers that still wait for a clinician's acknowledgement."""
        answers = session.answers or {}
        return [i for i in REVIEW_ITEMS if answers.get(i) == "yes" and i not in session.acknowledged]

    # --- facts the gates read ----------------------------------------------------------------------------

    def delivered_dates(self) -> list[date]:
        return [local(s.started_at).date() for s in self.sessions if s.status in DELIVERED and s.started_at]

    def units_used(self, auth: Authorization) -> int:
        return sum(1 for b in self.bookings if b.auth_id == auth.id and b.status == "completed")

    def units_held(self, auth: Authorization) -> int:
        return sum(1 for b in self.bookings if b.auth_id == auth.id and b.status in PENDING_BOOKING)

    def output(self, intensity: float) -> float:
        """% of machine output for ``intensity`` % MT at the chair's MT (whole percent, halves up)."""
        assert self.chair_mt is not None
        exact = intensity * self.chair_mt.value / 100
        return exact if exact > DEVICE_MAX_PCT else float(int(exact + 0.5))

    def dose_refused(self) -> bool:
        return self.output(self.intensity) > DEVICE_MAX_PCT

    def resume_refusal(self, session: Session) -> str | None:
        """The 409 code a resume must get once the gates are clear (None: the rest is sent)."""
        now = self.output(session.intensity)
        if now > DEVICE_MAX_PCT:
            return "dose_refused"
        return None if now == session.output else "dose_changed"

    @staticmethod
    def within_table(intensity: float) -> bool:
        """The 10 Hz protocol's trains at ``intensity`` % MT: inside the cell of the next column up."""
        column = next((c for c in sorted(TEN_HZ_MAX_TRAIN_S) if c >= intensity), None)
        return column is not None and TEN_HZ_MAX_TRAIN_S[column] >= TRAIN_S

    @staticmethod
    def checklist_ready(answers: dict[str, str]) -> bool:
        return all(item in answers for item in CHECKLIST_ITEMS) and all(answers[i] == "yes" for i in MUST_BE_YES)

    # --- booking -------------------------------------------------------------------------------------------

    def booking_refusal(self, start: datetime) -> str | None:
        """The 409 code booking a session at ``start`` must get (None: it is booked)."""
        day = local(start).date()
        if not self.course_active:
            return "course_not_bookable"
        if any(local(b.start).date() == day for b in self.bookings):
            return "daily_limit"  # the machine never cancels, so every booking holds its day
        if self.payer:
            auth = self.auth
            assert auth is not None
            if auth.withdrawn:
                return "authorization"
            if not auth.start <= day <= auth.end:
                return "authorization_dates"
            if auth.units - self.units_used(auth) - self.units_held(auth) <= 0:
                return "authorization_units"
        return None

    def next_slot(self) -> datetime | None:
        """Two hours on, if that is still a slot today."""
        hour = local(self.now).hour + 2
        return at_local(self.today, hour) if hour <= LAST_SLOT_HOUR else None

    def day_start(self, days: int) -> datetime:
        return at_local(self.today + timedelta(days=days), OPENING_HOUR)
