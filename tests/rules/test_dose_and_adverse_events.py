"""Dose (refuse, never clamp) and adverse events (seriousness, MDR clock)."""

from __future__ import annotations

from datetime import date

import pytest

from service.rules import adverse_events as ae
from service.rules import dose, protocols
from service.rules.errors import LimitExceededError, RuleInputError


def test_output_is_percent_of_mt() -> None:
    d = dose.output_percent(120, 55)
    assert (d.output_pct_mso, d.exact_pct_mso, d.mt_used_pct_mso) == (66, 66, 55)


def test_rounding_is_half_up_to_the_resolution() -> None:
    assert dose.output_percent(120, 52.5).output_pct_mso == 63  # 63.0
    assert dose.output_percent(110, 45).output_pct_mso == 50  # 49.5 → 50
    assert dose.output_percent(110, 45, resolution=0.1).output_pct_mso == 49.5


def test_above_device_max_is_refused_not_clamped() -> None:
    assert dose.output_percent(120, 83).output_pct_mso == 100  # 99.6 rounds to the maximum
    with pytest.raises(LimitExceededError) as err:
        dose.output_percent(120, 84)  # 100.8
    assert (err.value.field, err.value.limit, err.value.value) == ("intensity_pct_mt", 100, 100.8)
    assert "refused" in err.value.message
    with pytest.raises(LimitExceededError):
        dose.output_percent(120, 70, device_max_pct=80)


def test_depth_adjusted_protocol_uses_the_depth_adjusted_mt() -> None:
    saint = protocols.get("accelerated_itbs_1800")
    d = dose.for_protocol(saint, 60, depth_adjusted_mt_pct_mso=70)
    assert (d.output_pct_mso, d.basis) == (63, "rMT_depth_adjusted")
    with pytest.raises(RuleInputError) as err:
        dose.for_protocol(saint, 60)
    assert err.value.field == "depth_adjusted_mt_pct_mso"
    assert dose.for_protocol(protocols.get("hf10_3000_iti26"), 50).output_pct_mso == 60


@pytest.mark.parametrize(
    ("args", "field"), [((0, 50), "intensity_pct_mt"), ((120, 0), "mt_pct_mso"), ((120, 101), "mt_pct_mso")]
)
def test_dose_input_errors(args: tuple[float, float], field: str) -> None:
    with pytest.raises(RuleInputError) as err:
        dose.output_percent(*args)
    assert err.value.field == field


def test_vocabulary_has_the_common_tms_event_terms() -> None:
    codes = {t.code for t in ae.terms()}
    assert {
        "headache",
        "application_site_pain",
        "facial_twitch",
        "syncope",
        "seizure",
        "hearing_change",
        "hypomania_mania",
        "worsening_depression_suicidality",
        "other",
    } <= codes


def test_seizure_is_serious_by_default() -> None:
    c = ae.classify("seizure", 3)
    assert c.serious and c.blocks_course and c.opens_reporting_task
    assert "important_medical_event" in c.serious_criteria


def test_headache_is_not_serious_unless_a_criterion_applies() -> None:
    assert not ae.classify("headache", 2).serious
    hospital = ae.classify("headache", 3, ["hospitalisation"])
    assert hospital.serious and hospital.serious_criteria == ("hospitalisation",)


@pytest.mark.parametrize(("grade", "criterion"), [(4, "life_threatening"), (5, "death")])
def test_grades_four_and_five_are_serious(grade: int, criterion: str) -> None:
    c = ae.classify("syncope", grade)
    assert c.serious and criterion in c.serious_criteria


def test_low_seizure_grade_is_flagged_not_refused() -> None:
    assert any("grade 3" in r for r in ae.classify("seizure", 1).reasons)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"term": "nosebleed", "grade": 1}, "term"),
        ({"term": "headache", "grade": 6}, "grade"),
        ({"term": "headache", "grade": 0}, "grade"),
        ({"term": "headache", "grade": 1, "seriousness_criteria": ["boring"]}, "seriousness_criteria"),
        ({"term": "headache", "grade": 1, "relatedness": "maybe"}, "relatedness"),
        ({"term": "other", "grade": 1}, "description"),
    ],
)
def test_ae_input_errors(kwargs: dict, field: str) -> None:
    with pytest.raises(RuleInputError) as err:
        ae.classify(**kwargs)
    assert err.value.field == field


def test_user_facility_ten_work_days() -> None:
    due = ae.reporting_due("user_facility", date(2025, 6, 2))  # Monday
    assert due.mandatory and due.due_on == date(2025, 6, 16) and due.recipients == ("manufacturer",)
    assert due.form == "FDA 3500A"


def test_work_days_skip_weekends_and_holidays() -> None:
    friday = date(2025, 6, 27)
    assert ae.add_work_days(friday, 1) == date(2025, 6, 30)
    with_holiday = ae.reporting_due("user_facility", date(2025, 6, 30), holidays=[date(2025, 7, 4)])
    assert with_holiday.due_on == date(2025, 7, 15)


def test_death_goes_to_fda_and_manufacturer() -> None:
    due = ae.reporting_due("user_facility", date(2025, 6, 2), event="death")
    assert set(due.recipients) == {"FDA", "manufacturer"}
    unknown = ae.reporting_due("user_facility", date(2025, 6, 2), manufacturer_known=False)
    assert unknown.recipients == ("FDA",)


def test_physician_office_is_voluntary() -> None:
    due = ae.reporting_due("physician_office", date(2025, 6, 2))
    assert not due.mandatory and due.due_on is None and "voluntary" in due.reasons[0]
    with pytest.raises(RuleInputError) as err:
        ae.reporting_due("spa", date(2025, 6, 2))
    assert err.value.field == "facility_type"
