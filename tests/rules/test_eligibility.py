"""Payer criteria sets: each criterion passes and fails with the numbers of docs/clinical-rules.md#payer-criteria."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from config import clinical_data
from service.rules import eligibility, trials
from service.rules.eligibility import BaselineScore, EligibilityFacts, PriorCourse, PsychotherapyTrial
from service.rules.errors import RuleInputError
from service.rules.trials import MedicationTrial

TODAY = date(2025, 6, 2)
START = date(2024, 1, 1)
ALL_SETS = ("medicare_l37086", "medicare_l34522", "aetna_cpb0469", "uhc_optum", "cigna_en0383", "centene_cpbh200")


def trial(drug: str, dose: float, weeks: float = 8, outcome: str = "no_response", **kw: object) -> MedicationTrial:
    return MedicationTrial(drug, dose, START, START + timedelta(days=round(weeks * 7)), outcome, **kw)  # type: ignore[arg-type]


GOOD = EligibilityFacts(
    age_years=40,
    diagnosis_codes=("F33.2",),
    baseline_scores=(BaselineScore("PHQ-9", 22, date(2025, 5, 20)),),
    medication_trials=(
        trial("sertraline", 100),
        trial("bupropion", 300, outcome="partial_response"),
        trial("aripiprazole", 5, augmentation=True),
    ),
    psychotherapy_trials=(PsychotherapyTrial("CBT", date(2023, 1, 1), date(2023, 6, 1), "no_improvement"),),
    psychiatrist_evaluation=True,
    conditions={k: False for k in clinical_data.payer_criteria().condition_vocabulary},
    documented=frozenset({"ketamine_esketamine_status"}),
)


def status(set_id: str, facts: EligibilityFacts, criterion: str) -> str:
    decision = eligibility.evaluate(set_id, facts, TODAY)
    return next(c.status for c in decision.criteria if c.id == criterion)


@pytest.mark.parametrize("set_id", ALL_SETS)
def test_complete_good_case_is_eligible_for_every_set(set_id: str) -> None:
    decision = eligibility.evaluate(set_id, GOOD, TODAY)
    assert decision.eligible, [c for c in decision.criteria if c.status not in ("met", "not_applicable")]
    assert decision.criteria_version == clinical_data.payer_criteria().version
    assert all(c.reasons for c in decision.criteria)


def test_criteria_set_ids_include_the_reference_sets() -> None:
    assert set(ALL_SETS) <= set(eligibility.criteria_set_ids())


# ------------------------------------------------------------------ age


@pytest.mark.parametrize(
    ("set_id", "age", "expected"),
    [
        ("medicare_l37086", 18, "met"),
        ("medicare_l37086", 17, "not_met"),
        ("aetna_cpb0469", 15, "met"),
        ("aetna_cpb0469", 14, "not_met"),
        ("uhc_optum", 17, "not_met"),
        ("cigna_en0383", 16, "needs_review"),
        ("cigna_en0383", 14, "not_met"),
        ("centene_cpbh200", 15, "needs_review"),
        ("centene_cpbh200", 18, "met"),
    ],
)
def test_age(set_id: str, age: int, expected: str) -> None:
    assert status(set_id, replace(GOOD, age_years=age), "age") == expected


def test_age_needing_review_makes_the_decision_needs_review() -> None:
    assert eligibility.evaluate("cigna_en0383", replace(GOOD, age_years=16), TODAY).status == "needs_review"


def test_missing_age_is_missing_evidence() -> None:
    decision = eligibility.evaluate("uhc_optum", replace(GOOD, age_years=None), TODAY)
    assert decision.status == "incomplete"
    assert next(c for c in decision.criteria if c.id == "age").missing == ("age",)


# ------------------------------------------------------------------ diagnosis


@pytest.mark.parametrize(
    ("set_id", "code", "expected"),
    [
        ("medicare_l37086", "F33.1", "not_met"),  # moderate: Medicare wants severe
        ("aetna_cpb0469", "F32.2", "met"),
        ("aetna_cpb0469", "F33.3", "not_met"),  # with psychotic features
        ("cigna_en0383", "F33.1", "met"),  # moderate-to-severe accepted
        ("uhc_optum", "F32.1", "met"),
        ("centene_cpbh200", "F32.1", "not_met"),
        ("medicare_l34522", "f32.2 ", "met"),  # normalised
    ],
)
def test_diagnosis(set_id: str, code: str, expected: str) -> None:
    assert status(set_id, replace(GOOD, diagnosis_codes=(code,)), "diagnosis") == expected


def test_no_diagnosis_is_missing() -> None:
    assert status("aetna_cpb0469", replace(GOOD, diagnosis_codes=()), "diagnosis") == "missing"


# ------------------------------------------------------------------ baseline scale


@pytest.mark.parametrize(("total", "expected"), [(15, "met"), (14, "not_met")])
def test_centene_baseline_phq9_15(total: int, expected: str) -> None:
    facts = replace(GOOD, baseline_scores=(BaselineScore("PHQ-9", total, date(2025, 5, 20)),))
    assert status("centene_cpbh200", facts, "baseline_scale") == expected


def test_centene_needs_a_phq9_not_another_scale() -> None:
    facts = replace(GOOD, baseline_scores=(BaselineScore("HAM-D17", 30, date(2025, 5, 20)),))
    assert status("centene_cpbh200", facts, "baseline_scale") == "missing"
    assert status("uhc_optum", facts, "baseline_scale") == "met"


@pytest.mark.parametrize("set_id", ALL_SETS)
def test_no_baseline_is_missing(set_id: str) -> None:
    assert status(set_id, replace(GOOD, baseline_scores=()), "baseline_scale") == "missing"


# ------------------------------------------------------------------ medication trials


def test_one_failed_trial_satisfies_l34522_only() -> None:
    facts = replace(GOOD, medication_trials=(trial("sertraline", 100),))
    assert status("medicare_l34522", facts, "medication_trials") == "met"
    for set_id in ("medicare_l37086", "aetna_cpb0469", "uhc_optum", "cigna_en0383", "centene_cpbh200"):
        assert status(set_id, facts, "medication_trials") == "not_met", set_id


def test_two_trials_of_the_same_class_fail_the_distinct_class_rule() -> None:
    facts = replace(GOOD, medication_trials=(trial("sertraline", 100), trial("fluoxetine", 20)))
    decision = eligibility.evaluate("uhc_optum", facts, TODAY)
    med = next(c for c in decision.criteria if c.id == "medication_trials")
    assert med.status == "not_met"
    assert "✗ 1 of 2 distinct classes" in med.reasons


def test_five_week_trials_count_for_cigna_four_weeks_but_not_six() -> None:
    facts = replace(GOOD, medication_trials=(trial("sertraline", 100, weeks=5), trial("bupropion", 300, weeks=5)))
    assert status("cigna_en0383", facts, "medication_trials") == "met"
    assert status("centene_cpbh200", facts, "medication_trials") == "not_met"


def test_exactly_six_weeks_is_adequate() -> None:
    facts = replace(GOOD, medication_trials=(trial("sertraline", 100, weeks=6), trial("bupropion", 300, weeks=6)))
    assert status("centene_cpbh200", facts, "medication_trials") == "met"


def test_dose_below_minimum_effective_does_not_count() -> None:
    facts = replace(GOOD, medication_trials=(trial("sertraline", 25), trial("bupropion", 300)))
    assert status("uhc_optum", facts, "medication_trials") == "not_met"


def test_documented_intolerance_counts_whatever_the_duration() -> None:
    intolerant = trial("venlafaxine", 37.5, weeks=1, outcome="intolerance", side_effect="severe nausea")
    facts = replace(GOOD, medication_trials=(trial("sertraline", 100), intolerant))
    assert status("centene_cpbh200", facts, "medication_trials") == "met"
    undocumented = replace(intolerant, side_effect=None)
    facts = replace(GOOD, medication_trials=(trial("sertraline", 100), undocumented))
    assert status("centene_cpbh200", facts, "medication_trials") == "not_met"


def test_aetna_requires_an_augmentation_trial() -> None:
    facts = replace(GOOD, medication_trials=GOOD.medication_trials[:2])
    assert status("aetna_cpb0469", facts, "medication_trials") == "not_met"
    assert status("uhc_optum", facts, "medication_trials") == "met"


def test_responders_do_not_count() -> None:
    facts = replace(GOOD, medication_trials=(trial("sertraline", 100, outcome="response"), trial("bupropion", 300)))
    assert status("uhc_optum", facts, "medication_trials") == "not_met"


def test_uhc_alternatives_prior_tms_response_or_ect_candidate() -> None:
    none = replace(GOOD, medication_trials=())
    assert status("uhc_optum", none, "medication_trials") == "missing"
    prior = replace(none, prior_courses=(PriorCourse(date(2023, 1, 1), 60),))
    assert status("uhc_optum", prior, "medication_trials") == "met"
    ect = replace(none, ect_status="candidate")
    assert status("uhc_optum", ect, "medication_trials") == "met"
    assert status("cigna_en0383", ect, "medication_trials") == "missing"  # no alternatives there


def test_unknown_drug_is_missing_evidence_naming_the_trial() -> None:
    for unknown in (trial("zuranolone", 50), trial("zuranolone", 50, drug_class="TCA")):
        facts = replace(GOOD, medication_trials=(trial("sertraline", 100), unknown))
        decision = eligibility.evaluate("uhc_optum", facts, TODAY)
        med = next(c for c in decision.criteria if c.id == "medication_trials")
        assert med.status == "missing"
        assert med.missing == ("medication_trials[1] (zuranolone): dose or outcome",)


# ------------------------------------------------------------------ psychotherapy, psychiatrist, exclusions


def test_psychotherapy() -> None:
    assert status("centene_cpbh200", replace(GOOD, psychotherapy_trials=()), "psychotherapy") == "missing"
    improved = (PsychotherapyTrial("CBT", date(2023, 1, 1), date(2023, 6, 1), "improved"),)
    assert status("centene_cpbh200", replace(GOOD, psychotherapy_trials=improved), "psychotherapy") == "not_met"
    # Aetna's current policy does not require psychotherapy ([S]; older versions did).
    assert eligibility.evaluate("aetna_cpb0469", replace(GOOD, psychotherapy_trials=()), TODAY).eligible


@pytest.mark.parametrize(("value", "expected"), [(True, "met"), (False, "not_met"), (None, "missing")])
def test_psychiatrist_evaluation(value: bool | None, expected: str) -> None:
    assert (
        status("medicare_l37086", replace(GOOD, psychiatrist_evaluation=value), "psychiatrist_evaluation") == expected
    )


@pytest.mark.parametrize(
    ("set_id", "condition"),
    [
        ("medicare_l37086", "seizure_disorder"),
        ("medicare_l34522", "implant_within_30cm"),
        ("aetna_cpb0469", "substance_use_90d"),
        ("aetna_cpb0469", "psychosis_current"),
        ("centene_cpbh200", "bipolar_disorder"),
        ("centene_cpbh200", "suicidal_ideation_with_intent"),
        ("cigna_en0383", "psychosis_current"),
        ("uhc_optum", "implant_within_30cm"),
    ],
)
def test_exclusions_block(set_id: str, condition: str) -> None:
    facts = replace(GOOD, conditions={**GOOD.conditions, condition: True})
    decision = eligibility.evaluate(set_id, facts, TODAY)
    assert decision.status == "not_eligible"
    assert next(c for c in decision.criteria if c.id == "exclusions").status == "not_met"


def test_unassessed_exclusion_is_missing_not_assumed_absent() -> None:
    conditions = {k: v for k, v in GOOD.conditions.items() if k != "dementia"}
    decision = eligibility.evaluate("aetna_cpb0469", replace(GOOD, conditions=conditions), TODAY)
    exclusions = next(c for c in decision.criteria if c.id == "exclusions")
    assert exclusions.status == "missing" and exclusions.missing == ("Dementia",)


def test_centene_ketamine_documentation() -> None:
    assert status("centene_cpbh200", replace(GOOD, documented=frozenset()), "ketamine_documented") == "missing"


# ------------------------------------------------------------------ retreatment


def retreat(pct: float, sustained: int | None = 90, relapsed: bool | None = True) -> EligibilityFacts:
    return replace(GOOD, is_retreatment=True, prior_courses=(PriorCourse(date(2024, 6, 1), pct, sustained, relapsed),))


@pytest.mark.parametrize(
    ("set_id", "facts", "expected"),
    [
        ("medicare_l37086", retreat(60), "met"),
        ("medicare_l37086", retreat(50), "not_met"),  # "> 50%"
        ("uhc_optum", retreat(50), "not_met"),
        ("aetna_cpb0469", retreat(50, sustained=60), "met"),  # "50% response sustained ≥ 2 months"
        ("aetna_cpb0469", retreat(50, sustained=59), "not_met"),
        ("aetna_cpb0469", retreat(70, sustained=None), "missing"),
        ("medicare_l37086", retreat(70, relapsed=None), "missing"),
        ("medicare_l37086", retreat(70, relapsed=False), "not_met"),
        ("cigna_en0383", retreat(10), "met"),
        ("cigna_en0383", retreat(0), "not_met"),
    ],
)
def test_retreatment(set_id: str, facts: EligibilityFacts, expected: str) -> None:
    assert status(set_id, facts, "retreatment") == expected


def test_retreatment_without_prior_course_is_missing() -> None:
    assert status("medicare_l37086", replace(GOOD, is_retreatment=True), "retreatment") == "missing"


def test_first_course_has_retreatment_not_applicable() -> None:
    assert status("medicare_l37086", GOOD, "retreatment") == "not_applicable"


# ------------------------------------------------------------------ input errors


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        (
            replace(GOOD, medication_trials=(MedicationTrial("sertraline", 100, date(2024, 5, 1), date(2024, 4, 1)),)),
            "medication_trials[0].stop_date",
        ),
        (
            replace(GOOD, medication_trials=(MedicationTrial("sertraline", 100, TODAY + timedelta(days=1)),)),
            "medication_trials[0].start_date",
        ),
        (
            replace(GOOD, medication_trials=(MedicationTrial("sertraline", -5, START),)),
            "medication_trials[0].daily_dose",
        ),
        (
            replace(GOOD, baseline_scores=(BaselineScore("PHQ-9", 22, TODAY + timedelta(days=1)),)),
            "baseline_scores[0].administered_on",
        ),
        (replace(GOOD, baseline_scores=(BaselineScore("XYZ", 22, TODAY),)), "baseline_scores[0].instrument"),
        (replace(GOOD, baseline_scores=(BaselineScore("PHQ-9", 28, TODAY),)), "baseline_scores[0].total"),
        (
            replace(GOOD, psychotherapy_trials=(PsychotherapyTrial("CBT", date(2023, 6, 1), date(2023, 1, 1)),)),
            "psychotherapy_trials[0].stop_date",
        ),
        (replace(GOOD, age_years=-1), "age_years"),
    ],
)
def test_invalid_facts_name_the_field(facts: EligibilityFacts, field: str) -> None:
    with pytest.raises(RuleInputError) as err:
        eligibility.evaluate("uhc_optum", facts, TODAY)
    assert err.value.field == field


def test_unknown_criteria_set() -> None:
    with pytest.raises(RuleInputError) as err:
        eligibility.evaluate("acme", GOOD, TODAY)
    assert err.value.field == "criteria"


def test_ongoing_trial_runs_until_today() -> None:
    summary = trials.assess(
        [MedicationTrial("sertraline", 100, TODAY - timedelta(weeks=6), None, "no_response")], today=TODAY
    )
    assert summary.trials[0].duration_days == 42 and summary.trials[0].failed_adequate
