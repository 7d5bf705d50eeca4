"""The course template catalog: shape, counts, extension rule, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.course_templates import (
    TEMPLATES_PATH,
    CourseTemplates,
    DailyRhythm,
    IntensiveRhythm,
    WeeklyRhythm,
    get_course_template,
    load_course_templates,
)


def test_catalog_has_the_published_templates_with_their_counts() -> None:
    expected = {"standard-36": 36, "medicare-20": 25, "deep-tms-h1": 44, "accelerated-saint": 50}
    for template_id, total in expected.items():
        assert get_course_template(template_id).total_sessions == total


def test_standard_36_is_30_daily_then_taper_3_2_1() -> None:
    acute, taper = get_course_template("standard-36").phases
    assert (acute.kind, acute.sessions, acute.rhythm) == ("acute", 30, DailyRhythm())
    assert taper.kind == "taper"
    assert isinstance(taper.rhythm, WeeklyRhythm)
    assert taper.rhythm.week_counts() == (3, 2, 1)


def test_deep_tms_continuation_is_twice_weekly_for_12_weeks() -> None:
    _, continuation = get_course_template("deep-tms-h1").phases
    assert isinstance(continuation.rhythm, WeeklyRhythm)
    assert continuation.rhythm.week_counts() == (2,) * 12
    assert continuation.kind == "continuation"


def test_accelerated_is_10_a_day_with_50_min_after_each_session() -> None:
    (phase,) = get_course_template("accelerated-saint").phases
    assert isinstance(phase.rhythm, IntensiveRhythm)
    # 50 min from the end of a ~10-min session to the next start: starts 60 min apart
    assert (phase.sessions, phase.rhythm.per_day, phase.rhythm.min_start_interval_minutes) == (50, 10, 60)


@pytest.mark.parametrize(
    ("improvement", "at_session", "expected"),
    [(None, None, [20, 5]), (24.9, 20, [20, 5]), (25.0, 20, [20, 10, 6]), (40.0, 22, [20, 10, 6]),
     (40.0, 23, [20, 5]), (40.0, 17, [20, 5])],
)
def test_medicare_extension_fires_at_25_percent_about_session_20(
    improvement: float | None, at_session: int | None, expected: list[int]
) -> None:
    template = get_course_template("medicare-20")
    assert [p.sessions for p in template.phases_for(improvement, at_session)] == expected


def test_extension_phases_are_extension_then_taper() -> None:
    phases = get_course_template("medicare-20").phases_for(30.0)
    assert [p.kind for p in phases] == ["acute", "extension", "taper"]


def test_retreatment_gate_is_data() -> None:
    template = get_course_template("retreatment-36")
    assert template.requires_prior_response_pct == 50.0
    assert template.phases[0].kind == "retreatment"


def test_unknown_template_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="standard-36"):
        get_course_template("nope")


def test_loader_is_cached() -> None:
    assert load_course_templates() is load_course_templates()


def _mutated(tmp_path: Path, change: dict[str, object]) -> Path:
    data = json.loads(TEMPLATES_PATH.read_text())
    data["templates"][0]["phases"][1].update(change)
    path = tmp_path / "templates.json"
    path.write_text(json.dumps(data))
    return path


def test_weekly_counts_must_sum_to_the_phase_sessions(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="weekly counts sum to 6"):
        CourseTemplates.model_validate_json(_mutated(tmp_path, {"sessions": 7}).read_text())


def test_unknown_phase_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        CourseTemplates.model_validate_json(_mutated(tmp_path, {"kind": "maintenance-ish"}).read_text())
