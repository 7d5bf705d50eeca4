"""MT freshness policy, depth adjustment and Beam F3."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.rules import motor_threshold as mt
from service.rules.errors import RuleInputError
from service.rules.motor_threshold import MedicationChange, MTFacts, ReportedEvent

MON = date(2025, 6, 2)


def days(n: int) -> date:
    return MON + timedelta(days=n)


def test_fresh_on_the_day_and_within_the_week() -> None:
    facts = MTFacts(MON, session_dates=(MON, days(1), days(2), days(3)))
    result = mt.freshness(None, facts, days(4))
    assert not result.stale and result.reasons == ()


def test_stale_after_seven_days() -> None:
    assert not mt.freshness(None, MTFacts(MON), days(6)).stale
    result = mt.freshness(None, MTFacts(MON), days(7))
    assert result.stale and "7 days old" in result.reasons[0]
    assert result.redetermination_cpt == "90869"


def test_stale_after_five_sessions() -> None:
    four = MTFacts(MON, session_dates=tuple(days(i) for i in range(4)))
    assert not mt.freshness(None, four, days(4)).stale
    five = MTFacts(MON, session_dates=tuple(days(i) for i in range(5)))
    assert "5 sessions" in mt.freshness(None, five, days(5)).reasons[0]


def test_sessions_before_the_determination_do_not_count() -> None:
    facts = MTFacts(MON, session_dates=tuple(days(-i) for i in range(1, 6)))
    assert not mt.freshness(None, facts, MON).stale


def test_gap_rule_uses_the_policy() -> None:
    policy = mt.clinical_data.motor_threshold().freshness.model_copy(update={"max_gap_days": 3, "max_age_days": 30})
    facts = MTFacts(MON, session_dates=(MON,))
    assert not mt.freshness(policy, facts, days(3)).stale
    result = mt.freshness(policy, facts, days(4))
    assert result.stale and "gap of 4 days" in result.reasons[0]


@pytest.mark.parametrize(
    ("change", "stale"),
    [
        (MedicationChange("lorazepam", days(1)), True),  # benzodiazepine
        (MedicationChange("bupropion", days(1)), True),
        (MedicationChange("lithium", days(1)), True),
        (MedicationChange("sertraline", days(1)), False),  # SSRI: not in the CNS-active trigger list
        (MedicationChange("newdrug", days(1)), True),  # unknown: assumed CNS-active
        (MedicationChange("newdrug", days(1), drug_class="SSRI"), False),
        (MedicationChange("lorazepam", MON), False),  # same day: taken to precede the determination
    ],
)
def test_cns_active_medication_change(change: MedicationChange, stale: bool) -> None:
    assert mt.freshness(None, MTFacts(MON, medication_changes=(change,)), days(2)).stale is stale


@pytest.mark.parametrize("kind", ["sleep_deprivation", "substance_use", "unusual_response"])
def test_reported_events_make_it_stale(kind: str) -> None:
    result = mt.freshness(None, MTFacts(MON, events=(ReportedEvent(kind, days(1)),)), days(1))
    assert result.stale and kind.replace("_", " ") in result.reasons[0]


def test_no_mt_on_record() -> None:
    assert mt.freshness(None, MTFacts(None), MON).reasons == ("no motor threshold on record for this course",)


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        (MTFacts(days(1)), "determined_on"),
        (MTFacts(MON, session_dates=(days(1),)), "session_dates[0]"),
        (MTFacts(MON, events=(ReportedEvent("bad_dream", MON),)), "events[0].kind"),
        (MTFacts(MON, medication_changes=(MedicationChange("x", days(3)),)), "medication_changes[0].changed_on"),
    ],
)
def test_invalid_facts(facts: MTFacts, field: str) -> None:
    with pytest.raises(RuleInputError) as err:
        mt.freshness(None, facts, MON)
    assert err.value.field == field


def test_depth_adjustment_three_percent_per_mm() -> None:
    assert mt.depth_adjusted_mt(60, 12, 15) == 69
    assert mt.depth_adjusted_mt(60, 15, 12) == 51
    assert mt.depth_adjusted_mt(60, 12, 15, pct_per_mm=2.8) == 68.4
    with pytest.raises(RuleInputError) as err:
        mt.depth_adjusted_mt(60, 0, 15)
    assert err.value.field == "d_m1_mm"


def test_beam_f3_reference_example() -> None:
    f3 = mt.beam_f3(35, 35, 57)
    assert f3.x_cm == pytest.approx(6.6, abs=0.05) and f3.y_cm == pytest.approx(9.2, abs=0.05)
    with pytest.raises(RuleInputError) as err:
        mt.beam_f3(35, -1, 57)
    assert err.value.field == "nasion_inion_cm"


def test_beam_f3_refuses_measurements_too_small_for_its_geometry() -> None:
    """Found by fuzzing the API: a vanishing radius divided by zero (a 500); now a refusal naming the field."""
    for tt, ni, field in ((5e-324, 35, "tragus_tragus_cm"), (35, 5e-324, "nasion_inion_cm"),
                          (2e-307, 96.7, "tragus_tragus_cm")):
        with pytest.raises(RuleInputError) as err:
            mt.beam_f3(tt, ni, 57)
        assert err.value.field == field
