"""treatment_blockers: every gate blocks with its reason, and clears."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from config import clinical_data
from service.rules import gates, screening
from service.rules.gates import (
    AuthorizationFacts,
    OpenAdverseEvent,
    OpenSuicideAlert,
    ScreeningFacts,
    TreatmentFacts,
)
from service.rules.motor_threshold import MedicationChange, MTFacts
from service.rules.screening import Clearance

TODAY = date(2025, 6, 4)  # Wednesday
NOW = datetime(2025, 6, 4, 10, 0)
COURSE_START = date(2025, 6, 2)
ALL_NO = {i.id: "no" for i in clinical_data.screening().items}
CHECKS = {
    "hearing_protection": "yes",
    "sleep_loss": "no",
    "alcohol_or_drugs": "no",
    "caffeine": "no",
    "medication_change": "no",
    "new_symptoms": "no",
    "seizure_or_fainting": "no",
    "coil_position_confirmed": "yes",
}

CLEAR = TreatmentFacts(
    today=TODAY,
    now=NOW,
    course_status="active",
    screening=ScreeningFacts(screening.evaluate(ALL_NO), date(2025, 5, 30)),
    motor_threshold=MTFacts(COURSE_START, session_dates=(COURSE_START, date(2025, 6, 3))),
    protocol_id="hf10_3000_iti26",
    previous_session_starts=(datetime(2025, 6, 2, 10), datetime(2025, 6, 3, 10)),
    checklist_answers=CHECKS,
    authorization=AuthorizationFacts(36, 2, COURSE_START, date(2025, 8, 31), "AUTH-1"),
)


def codes(facts: TreatmentFacts) -> list[str]:
    return [b.code for b in gates.treatment_blockers(facts)]


def test_nothing_blocks_a_clean_case() -> None:
    assert gates.treatment_blockers(CLEAR) == []


def test_codes_are_declared() -> None:
    assert len(set(gates.BLOCKER_CODES)) == len(gates.BLOCKER_CODES)


def scr(answers: dict[str, str], **kw: object) -> ScreeningFacts:
    return replace(CLEAR.screening, result=screening.evaluate(answers, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("screen", "code"),
    [
        (ScreeningFacts(None, None), "screening_missing"),
        (scr({**ALL_NO, "cochlear_implant": "yes"}), "screening_absolute_contraindication"),
        (scr({k: v for k, v in ALL_NO.items() if k != "pregnancy"}), "screening_incomplete"),
        (scr({**ALL_NO, "seizure_history": "yes"}), "screening_uncleared"),
        (replace(CLEAR.screening, for_current_course=False, is_retreatment=True), "screening_stale"),
        (replace(CLEAR.screening, medication_change_dates=(date(2025, 6, 3),)), "screening_stale"),
    ],
)
def test_screening_gates(screen: ScreeningFacts, code: str) -> None:
    blockers = gates.treatment_blockers(replace(CLEAR, screening=screen))
    assert [b.code for b in blockers] == [code]
    assert blockers[0].message


def test_cleared_relative_finding_clears_the_screening_gate() -> None:
    clearance = Clearance("Dr Shah", "childhood febrile seizure only", date(2025, 6, 1))
    screen = scr({**ALL_NO, "seizure_history": "yes"}, clearances={"seizure_history": clearance})
    assert codes(replace(CLEAR, screening=screen)) == []


def test_absolute_contraindication_names_the_item() -> None:
    blocker = gates.treatment_blockers(replace(CLEAR, screening=scr({**ALL_NO, "cochlear_implant": "yes"})))[0]
    assert blocker.details["items"] == ["cochlear_implant"] and "cochlear" in blocker.message


def test_serious_adverse_event_blocks_until_cleared() -> None:
    seizure = OpenAdverseEvent("ae-1", "seizure", True, date(2025, 6, 3))
    blockers = gates.treatment_blockers(replace(CLEAR, adverse_events=(seizure,)))
    assert [b.code for b in blockers] == ["adverse_event_uncleared"]
    assert blockers[0].details["adverse_event_ids"] == ["ae-1"]
    assert codes(replace(CLEAR, adverse_events=(replace(seizure, cleared=True),))) == []
    headache = OpenAdverseEvent("ae-2", "headache", False, date(2025, 6, 3))
    assert codes(replace(CLEAR, adverse_events=(headache,))) == []


def test_open_suicide_alert_blocks() -> None:
    alert = OpenSuicideAlert("al-1", "PHQ-9", 9, 1, date(2025, 6, 3))
    blockers = gates.treatment_blockers(replace(CLEAR, suicide_alerts=(alert,)))
    assert [b.code for b in blockers] == ["suicide_alert_open"]
    assert "PHQ-9 item 9" in blockers[0].message
    assert codes(replace(CLEAR, suicide_alerts=())) == []


@pytest.mark.parametrize(
    "mt",
    [
        MTFacts(None),
        MTFacts(date(2025, 5, 28)),  # 7 days old
        MTFacts(COURSE_START, medication_changes=(MedicationChange("clonazepam", date(2025, 6, 3)),)),
        MTFacts(date(2025, 5, 29), session_dates=tuple(date(2025, 5, 29) + timedelta(days=i) for i in range(5))),
    ],
)
def test_stale_mt_blocks_with_reasons(mt: MTFacts) -> None:
    blockers = gates.treatment_blockers(replace(CLEAR, motor_threshold=mt))
    assert [b.code for b in blockers] == ["mt_stale"]
    assert blockers[0].details["reasons"] and "90869" in blockers[0].message


def test_redetermined_mt_clears() -> None:
    assert codes(replace(CLEAR, motor_threshold=MTFacts(TODAY))) == []


def test_warn_policy_does_not_block() -> None:
    policy = clinical_data.motor_threshold().freshness.model_copy(update={"action": "warn"})
    assert codes(replace(CLEAR, motor_threshold=MTFacts(None), mt_policy=policy)) == []


@pytest.mark.parametrize(("flag", "answer_key"), [("sleep", "sleep_loss"), ("substance", "alcohol_or_drugs")])
def test_checkin_flags_make_the_mt_stale(flag: str, answer_key: str) -> None:
    facts = replace(CLEAR, checklist_answers={**CHECKS, answer_key: "yes"},
                    checklist_acknowledged=frozenset({answer_key}))
    blockers = gates.treatment_blockers(facts)
    assert [b.code for b in blockers] == ["mt_stale"]
    assert flag in blockers[0].details["reasons"][0]


def test_checkin_medication_change_makes_screening_and_mt_stale() -> None:
    facts = replace(CLEAR, checklist_answers={**CHECKS, "medication_change": "yes"},
                    checklist_acknowledged=frozenset({"medication_change"}))
    assert codes(facts) == ["screening_stale", "mt_stale"]


@pytest.mark.parametrize("item", ["sleep_loss", "alcohol_or_drugs", "new_symptoms", "seizure_or_fainting"])
def test_checklist_answers_that_matter_block_until_acknowledged(item: str) -> None:
    facts = replace(CLEAR, motor_threshold=MTFacts(TODAY), checklist_answers={**CHECKS, item: "yes"})
    assert codes(facts) == ["checklist_needs_review"]
    assert codes(replace(facts, checklist_acknowledged=frozenset({item}))) == []


@pytest.mark.parametrize("status", ["planned", "on_hold", "completed", "cancelled"])
def test_course_not_active(status: str) -> None:
    blockers = gates.treatment_blockers(replace(CLEAR, course_status=status))
    assert [b.code for b in blockers] == ["course_not_active"] and status in blockers[0].message


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "authorization_missing"),
        (AuthorizationFacts(36, 36, COURSE_START, date(2025, 8, 31)), "authorization_exhausted"),
        (AuthorizationFacts(36, 2, date(2025, 6, 5), date(2025, 8, 31)), "authorization_not_started"),
        (AuthorizationFacts(36, 2, date(2025, 3, 1), date(2025, 6, 3)), "authorization_expired"),
    ],
)
def test_authorization_gates(auth: AuthorizationFacts | None, code: str) -> None:
    assert codes(replace(CLEAR, authorization=auth)) == [code]


def test_authorization_boundaries_and_not_required() -> None:
    last_day = AuthorizationFacts(36, 35, date(2025, 3, 1), TODAY)
    assert codes(replace(CLEAR, authorization=last_day)) == []
    assert codes(replace(CLEAR, authorization=None, authorization_required=False)) == []


def test_protocol_daily_limit_and_interval() -> None:
    twice = replace(CLEAR, previous_session_starts=(*CLEAR.previous_session_starts, NOW - timedelta(hours=1)))
    assert codes(twice) == ["protocol_daily_limit"]
    saint = replace(
        CLEAR,
        protocol_id="accelerated_itbs_1800",
        previous_session_starts=(NOW - timedelta(minutes=30),),
    )
    assert codes(saint) == ["protocol_min_interval"]
    # The 50-minute pause runs from the end of the ~10-min session (592 s): 50 min after its start is too soon.
    assert codes(replace(saint, previous_session_starts=(NOW - timedelta(minutes=50),))) == ["protocol_min_interval"]
    assert codes(replace(saint, previous_session_starts=(NOW - timedelta(minutes=59, seconds=52),))) == []
    assert codes(replace(CLEAR, protocol_id=None)) == ["protocol_missing"]


def test_checklist_gates() -> None:
    assert codes(replace(CLEAR, checklist_answers=None)) == ["checklist_incomplete"]
    partial = {k: v for k, v in CHECKS.items() if k != "caffeine"}
    blockers = gates.treatment_blockers(replace(CLEAR, checklist_answers=partial))
    assert [b.code for b in blockers] == ["checklist_incomplete"] and blockers[0].details["missing"] == ["caffeine"]
    no_plugs = gates.treatment_blockers(replace(CLEAR, checklist_answers={**CHECKS, "hearing_protection": "no"}))
    assert [b.code for b in no_plugs] == ["checklist_failed"]


def test_many_blockers_come_most_serious_first() -> None:
    facts = replace(
        CLEAR,
        screening=scr({**ALL_NO, "cochlear_implant": "yes"}),
        course_status="on_hold",
        checklist_answers=None,
    )
    assert codes(facts) == ["screening_absolute_contraindication", "course_not_active", "checklist_incomplete"]
