"""What blocks treatment of this patient today, and why: the one function the session-start gate calls.

``treatment_blockers(facts)`` runs every blocking rule over a ``TreatmentFacts`` snapshot
and returns a list of ``Blocker(code, message, details)``; an empty list means nothing blocks.
Messages are sentences a technician understands; ``details`` carry the evidence.

Rules and their sources: safety screening per course, absolute contraindications, relative ones
cleared by a psychiatrist, re-screen after medication change or retreatment (docs/clinical-rules.md#screening);
serious adverse events block until cleared (#severity-and-seriousness); open suicide-risk alerts block
until a psychiatrist responds (#suicide-items); MT freshness (#mt-redetermination,
``motor_threshold.freshness``); course active; authorisation units and dates (#missed-sessions-and-gaps);
protocol daily limit and interval (#sessions-per-day); pre-session checklist (#pre-session-checklist), whose
answers that matter wait for a clinician's acknowledgement with a note. Checklist
flags feed the MT and screening rules: ``sleep_deprivation``, ``substance_use`` and ``unusual_response`` are MT
triggers dated today, ``medication_change`` makes a screen completed before today stale and is checked against
the MT policy as an unknown drug unless the caller lists the change in ``motor_threshold.medication_changes``.

Public API::

    treatment_blockers(facts: TreatmentFacts) -> list[Blocker]
    BLOCKER_CODES: tuple[str, ...]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from config.clinical_data import FreshnessPolicy
from service.rules import checklist, motor_threshold, protocols, screening
from service.rules.motor_threshold import MedicationChange, MTFacts, ReportedEvent
from service.rules.screening import ScreeningResult

BLOCKER_CODES: tuple[str, ...] = (
    "screening_missing",
    "screening_absolute_contraindication",
    "screening_incomplete",
    "screening_uncleared",
    "screening_stale",
    "adverse_event_uncleared",
    "suicide_alert_open",
    "mt_stale",
    "mt_missing_for_device",
    "course_not_active",
    "eligibility_undocumented",
    "authorization_missing",
    "authorization_not_started",
    "authorization_expired",
    "authorization_exhausted",
    "protocol_missing",
    "protocol_daily_limit",
    "protocol_min_interval",
    "checklist_incomplete",
    "checklist_failed",
    "checklist_needs_review",
)


@dataclass(frozen=True)
class Blocker:
    """One reason treatment cannot start: stable code, plain sentence, evidence."""

    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScreeningFacts:
    """The patient's latest safety screen (``result`` None: never screened).

    ``for_current_course`` is False when that screen was recorded for an earlier course.
    """

    result: ScreeningResult | None
    completed_on: date | None
    for_current_course: bool = True
    medication_change_dates: tuple[date, ...] = ()
    is_retreatment: bool = False


@dataclass(frozen=True)
class OpenAdverseEvent:
    """A recorded adverse event; serious ones block until ``cleared``."""

    id: str
    term: str
    serious: bool
    onset_on: date
    cleared: bool = False


@dataclass(frozen=True)
class OpenSuicideAlert:
    """A suicide-risk alert with no psychiatrist response recorded yet."""

    id: str
    instrument: str
    item_number: int
    value: int
    raised_on: date


@dataclass(frozen=True)
class AuthorizationFacts:
    """The payer authorisation covering today's session."""

    units_authorized: int
    units_used: int
    start_date: date
    end_date: date
    reference: str | None = None


@dataclass(frozen=True)
class TreatmentFacts:
    """Everything the gates read, for one patient and course, at ``now`` (clinic-local time)."""

    today: date
    now: datetime
    course_status: str
    screening: ScreeningFacts
    motor_threshold: MTFacts
    protocol_id: str | None
    previous_session_starts: tuple[datetime, ...] = ()
    checklist_answers: Mapping[str, str] | None = None
    checklist_acknowledged: frozenset[str] = frozenset()  # items a clinician acknowledged with a note
    # The course was ordered as eligible under its criteria set, or with a psychiatrist's documented exception.
    eligibility_documented: bool = True
    adverse_events: tuple[OpenAdverseEvent, ...] = ()
    suicide_alerts: tuple[OpenSuicideAlert, ...] = ()
    authorization: AuthorizationFacts | None = None
    authorization_required: bool = True
    mt_policy: FreshnessPolicy | None = None
    # At a chair: the stimulator and coil there, when the patient has no MT determined on them (an MT in
    # % of machine output belongs to one stimulator and coil, docs/dose-safety.md).
    mt_missing_for_device: str | None = None


def _screening_currency(
    f: ScreeningFacts, completed_on: date, today: date, checklist_flags: frozenset[str]
) -> list[Blocker]:
    """A screen for an earlier course, or one older than a medication change, must be repeated."""
    changes = f.medication_change_dates + ((today,) if "medication_change" in checklist_flags else ())
    cur = screening.currency(
        completed_on,
        for_current_course=f.for_current_course,
        medication_changes=changes,
        is_retreatment=f.is_retreatment,
    )
    if not cur.current:
        return [Blocker("screening_stale", "The safety screening must be repeated.", {"reasons": list(cur.reasons)})]
    return []


def _screening(f: ScreeningFacts, today: date, checklist_flags: frozenset[str]) -> list[Blocker]:
    r = f.result
    if r is None or f.completed_on is None:
        return [Blocker("screening_missing", "No safety screening on file for this course. Do the screening first.")]
    out = []
    if r.absolute:
        items = [x.item_id for x in r.absolute]
        out.append(
            Blocker(
                "screening_absolute_contraindication",
                "Do not treat: the safety screening found an absolute contraindication "
                f"({'; '.join(x.text for x in r.absolute)})."
                + (" An 'unsure' answer counts as yes until a clinician records the checked answer."
                   if any(x.unsure for x in r.absolute) else ""),
                {"items": items, "unsure_items": [x.item_id for x in r.absolute if x.unsure]},
            )
        )
    if r.missing_items:
        out.append(
            Blocker(
                "screening_incomplete",
                "The safety screening is not finished.",
                {"missing_items": list(r.missing_items)},
            )
        )
    if r.uncleared:
        out.append(
            Blocker(
                "screening_uncleared",
                "The psychiatrist has not yet cleared the screening answers that need review.",
                {"items": [x.item_id for x in r.uncleared]},
            )
        )
    out += _screening_currency(f, f.completed_on, today, checklist_flags)
    return out


def _adverse_events(events: tuple[OpenAdverseEvent, ...]) -> list[Blocker]:
    open_serious = [e for e in events if e.serious and not e.cleared]
    if not open_serious:
        return []
    terms = ", ".join(f"{e.term} on {e.onset_on.isoformat()}" for e in open_serious)
    return [
        Blocker(
            "adverse_event_uncleared",
            f"A serious adverse event ({terms}) must be cleared by the psychiatrist before the next session.",
            {"adverse_event_ids": [e.id for e in open_serious]},
        )
    ]


def _suicide_alerts(alerts: tuple[OpenSuicideAlert, ...]) -> list[Blocker]:
    if not alerts:
        return []
    what = ", ".join(f"{a.instrument} item {a.item_number} = {a.value} on {a.raised_on.isoformat()}" for a in alerts)
    return [
        Blocker(
            "suicide_alert_open",
            f"Suicide-risk alert ({what}) waits for the psychiatrist's response. Tell the psychiatrist now.",
            {"alert_ids": [a.id for a in alerts]},
        )
    ]


def _mt_facts_with_flags(f: TreatmentFacts, flags: frozenset[str]) -> MTFacts:
    """Add today's check-in flags to the MT facts (a reported change with no drug listed counts as unknown)."""
    mt = f.motor_threshold
    events = tuple(ReportedEvent(k, f.today) for k in sorted(flags) if k != "medication_change")
    changes = mt.medication_changes
    if "medication_change" in flags and not any(c.changed_on == f.today for c in changes):
        changes = (*changes, MedicationChange("medication change reported at check-in", f.today))
    return replace(mt, events=mt.events + events, medication_changes=changes)


def _mt(f: TreatmentFacts, flags: frozenset[str]) -> list[Blocker]:
    if f.mt_missing_for_device is not None:
        return [
            Blocker(
                "mt_missing_for_device",
                f"No motor threshold on file for {f.mt_missing_for_device}: determine it on this stimulator and "
                "coil before treating (bill CPT 90869).",
                {"device": f.mt_missing_for_device, "cpt": "90869"},
            )
        ]
    facts = _mt_facts_with_flags(f, flags)
    fresh = motor_threshold.freshness(f.mt_policy, facts, f.today)
    if not fresh.stale or fresh.action != "block":
        return []
    return [
        Blocker(
            "mt_stale",
            f"Re-determine the motor threshold before treating (bill CPT {fresh.redetermination_cpt}).",
            {"reasons": list(fresh.reasons)},
        )
    ]


def _eligibility(documented: bool) -> list[Blocker]:
    if documented:
        return []
    return [Blocker("eligibility_undocumented",
                    "The course has no eligibility decision or documented exception on record: the psychiatrist"
                    " records why it is treated (docs/clinical-rules.md#eligibility-exception).")]


def _course(status: str) -> list[Blocker]:
    if status == "active":
        return []
    return [Blocker("course_not_active", f"The course is {status}, not active.", {"course_status": status})]


def _authorization(f: TreatmentFacts) -> list[Blocker]:
    a = f.authorization
    if a is None:
        if not f.authorization_required:
            return []
        return [Blocker("authorization_missing", "No payer authorisation on file for this course.")]
    details = {"reference": a.reference, "start_date": a.start_date.isoformat(), "end_date": a.end_date.isoformat()}
    out = []
    if f.today < a.start_date:
        out.append(Blocker("authorization_not_started", "The authorisation has not started yet.", details))
    if f.today > a.end_date:
        out.append(Blocker("authorization_expired", "The authorisation has expired.", details))
    if a.units_used >= a.units_authorized:
        used = {**details, "units_used": a.units_used, "units_authorized": a.units_authorized}
        out.append(
            Blocker(
                "authorization_exhausted",
                f"All {a.units_authorized} authorised sessions are used.",
                used,
            )
        )
    return out


def _protocol(f: TreatmentFacts) -> list[Blocker]:
    if f.protocol_id is None:
        return [Blocker("protocol_missing", "No prescribed protocol for this course.")]
    proto = protocols.get(f.protocol_id)
    out = []
    for v in protocols.session_spacing(proto, f.previous_session_starts, f.now):
        code = "protocol_daily_limit" if v.rule == "daily_limit" else "protocol_min_interval"
        out.append(Blocker(code, v.message, {"limit": v.limit, "value": v.value}))
    return out


def _checklist(answers: Mapping[str, str] | None, acknowledged: frozenset[str]) -> tuple[list[Blocker], frozenset[str]]:
    result = checklist.evaluate(answers or {}, acknowledged)
    out = []
    if result.missing:
        out.append(
            Blocker(
                "checklist_incomplete",
                "Finish the pre-session checklist.",
                {"missing": list(result.missing)},
            )
        )
    if result.blocking:
        out.append(Blocker("checklist_failed", " ".join(result.blocking), {"answers": dict(answers or {})}))
    if result.unacknowledged:
        out.append(Blocker(
            "checklist_needs_review",
            "A clinician must acknowledge these checklist answers with a note before treating: "
            + " ".join(r.why for r in result.unacknowledged),
            {"items": [r.item_id for r in result.unacknowledged]},
        ))
    return out, result.flags


def treatment_blockers(facts: TreatmentFacts) -> list[Blocker]:
    """Everything that blocks treatment of this patient today, most serious first; empty list: go."""
    checklist_blockers, flags = _checklist(facts.checklist_answers, facts.checklist_acknowledged)
    return [
        *_screening(facts.screening, facts.today, flags),
        *_adverse_events(facts.adverse_events),
        *_suicide_alerts(facts.suicide_alerts),
        *_mt(facts, flags),
        *_course(facts.course_status),
        *_eligibility(facts.eligibility_documented),
        *_authorization(facts),
        *_protocol(facts),
        *checklist_blockers,
    ]
