"""The data files load, carry version and source, and hold the numbers of docs/clinical-rules.md."""

from __future__ import annotations

import json

import pytest

from config import clinical_data
from service.rules import protocols


def test_every_file_loads_with_version_and_source() -> None:
    clinical_data.load_all()
    for path in clinical_data.DATA_DIR.glob("*.json"):
        data = json.loads(path.read_text())
        assert data["version"] and data["source"], path.name


def test_catalog_stored_timing_matches_the_formulas() -> None:
    for p in protocols.catalog():
        assert protocols.check_stored_timing(p) == [], p.id


@pytest.mark.parametrize(
    ("protocol_id", "pulses", "duration_s"),
    [
        ("hf10_3000_iti26", 3000, 2224),  # 75×4 + 74×26
        ("hf10_3000_iti11", 3000, 1114),  # ≈ 18.6 min
        ("itbs_600", 600, 192),
        ("dtms_h1_18hz_1980", 1980, 1190),
        ("accelerated_itbs_1800", 1800, 592),
    ],
)
def test_reference_protocol_numbers(protocol_id: str, pulses: int, duration_s: int) -> None:
    p = protocols.get(protocol_id)
    assert (p.total_pulses, p.session_duration_s) == (pulses, duration_s)


def test_saint_is_ten_a_day_fifty_minutes_apart_depth_adjusted() -> None:
    p = protocols.get("accelerated_itbs_1800")
    assert (p.sessions_per_day, p.min_interval_minutes, p.intensity_pct, p.intensity_basis) == (
        10,
        50,
        90,
        "rMT_depth_adjusted",
    )


def test_bad_severity_bands_are_refused_at_load() -> None:
    raw = json.loads((clinical_data.DATA_DIR / "scales.json").read_text())
    raw["instruments"][0]["severity_bands"][1]["min"] = 6  # gap at 5
    with pytest.raises(ValueError, match="contiguous"):
        clinical_data.ScalesFile.model_validate(raw)


def test_stored_timing_mismatch_is_reported() -> None:
    p = protocols.get("itbs_600").model_copy(update={"total_pulses": 601})
    assert [v.rule for v in protocols.check_stored_timing(p)] == ["stored_total_pulses"]
