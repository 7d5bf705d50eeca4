"""Rating scales: boundaries (docs/clinical-rules.md#scale-definitions), errors naming the field, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import clinical_data
from service.rules import scales
from service.rules.errors import RuleInputError


def phq(total: int, item9: int = 0) -> list[int]:
    """PHQ-9 items adding up to ``total``: item 9 as given (raised only when items 1–8 are full)."""
    item9 = max(item9, total - 24)
    rest = total - item9
    items = [min(3, max(0, rest - 3 * i)) for i in range(8)]
    return [*items, item9]


@pytest.mark.parametrize(
    ("total", "band"),
    [(4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (19, "moderately severe"), (20, "severe")],
)
def test_phq9_band_boundaries(total: int, band: str) -> None:
    assert scales.score("PHQ-9", phq(total)).severity == band


def test_phq9_remission_below_5() -> None:
    assert scales.score("PHQ-9", phq(4)).remission is True
    assert scales.score("PHQ-9", phq(5)).remission is False


@pytest.mark.parametrize(("total", "remission", "band"), [(7, True, "none"), (8, False, "mild")])
def test_hamd_7_8_boundary(total: int, remission: bool, band: str) -> None:
    items = [0] * 17
    items[0], items[1] = min(4, total), max(0, total - 4)
    result = scales.score("HAM-D17", items)
    assert (result.total, result.remission, result.severity) == (total, remission, band)


def test_response_at_exactly_fifty_percent() -> None:
    at = scales.score("PHQ-9", phq(10), baseline_total=20)
    assert (at.response, at.percent_change) == (True, -50.0)
    just_short = scales.score("PHQ-9", phq(11), baseline_total=21)  # 47.6%
    assert just_short.response is False
    odd = scales.score("PHQ-9", phq(9), baseline_total=19)  # 52.6%
    assert odd.response is True


def test_no_baseline_means_response_not_assessed() -> None:
    result = scales.score("PHQ-9", phq(10))
    assert result.response is None and result.percent_change is None
    assert any("no baseline" in r for r in result.reasons)


def test_zero_baseline_is_undefined_not_an_error() -> None:
    assert scales.score("PHQ-9", phq(0), baseline_total=0).percent_change is None


def test_phq9_item9_alert_and_loinc_codes() -> None:
    result = scales.score("PHQ-9", phq(12, item9=1))
    assert [(a.code, a.item_number) for a in result.alerts] == [("suicide_risk", 9)]
    assert result.total_code == "44261-6" and result.panel_code == "44249-1"
    assert result.item_codes[8].loinc == "44260-8" and result.item_codes[8].answer_code == "LA6569-3"
    assert scales.score("PHQ-9", phq(12, item9=0)).alerts == ()


def test_phq9_difficulty_item_is_recorded_not_scored() -> None:
    result = scales.score("PHQ-9", [*phq(6), 3])
    assert result.total == 6
    assert result.item_codes[-1].loinc == "69722-7" and result.item_codes[-1].answer_code is None
    assert scales.score("PHQ-9", [*phq(6), None]).total == 6


def test_hamd_and_madrs_suicide_items() -> None:
    hamd = [0] * 17
    hamd[2] = 1
    assert scales.score("HAM-D17", hamd).alerts[0].item_number == 3
    madrs = [0] * 10
    madrs[9] = 1
    assert scales.score("MADRS", madrs).alerts == ()
    madrs[9] = 2
    assert scales.score("MADRS", madrs).alerts[0].item_number == 10


def test_qids_uses_domain_maxima() -> None:
    items = [3, 1, 2, 0, 1, 2, 0, 1, 0, 1, 1, 0, 1, 1, 0, 2]
    result = scales.score("QIDS-SR16", items)
    # sleep 3 + mood 1 + appetite 2 + conc 1 + self 1 + SI 0 + interest 1 + energy 1 + psychomotor 2
    assert result.total == 12
    assert dict(result.domain_scores)["sleep"] == 3


def test_aliases_and_case() -> None:
    assert scales.score("phq9", phq(3)).instrument == "PHQ-9"
    assert scales.score("hamd17", [0] * 17).instrument == "HAM-D17"


@pytest.mark.parametrize(
    ("instrument", "items", "field"),
    [
        ("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 4], "items[8]"),
        ("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, -1], "items[8]"),
        ("PHQ-9", [0] * 8, "items"),
        ("PHQ-9", [0] * 11, "items"),
        ("HAM-D17", [0, 0, 0, 3] + [0] * 13, "items[3]"),  # insomnia items are 0–2
        ("MADRS", [0] * 9 + [7], "items[9]"),
        ("GAD-7", [0, 0, 0, 1.5, 0, 0, 0], "items[3]"),
        ("GAD-7", [0, 0, True, 0, 0, 0, 0], "items[2]"),
        ("BDI-II", [0] * 21, "instrument"),
    ],
)
def test_invalid_items_name_the_field(instrument: str, items: list, field: str) -> None:
    with pytest.raises(RuleInputError) as err:
        scales.score(instrument, items)
    assert err.value.field == field


def test_baseline_out_of_range() -> None:
    with pytest.raises(RuleInputError) as err:
        scales.score("PHQ-9", phq(3), baseline_total=28)
    assert err.value.field == "baseline_total"


@st.composite
def administration(draw: st.DrawFn) -> tuple[str, list[int]]:
    inst = draw(st.sampled_from(clinical_data.scales().instruments))
    items = [draw(st.integers(i.min, i.max)) for i in inst.items if i.required]
    return inst.id, items


@given(administration())
def test_sum_scales_total_is_item_sum(case: tuple[str, list[int]]) -> None:
    instrument, items = case
    result = scales.score(instrument, items)
    assert 0 <= result.total <= result.max_total
    if instrument != "QIDS-SR16":
        assert result.total == sum(items)


@given(st.sampled_from(clinical_data.scales().instruments), st.data())
def test_bands_cover_every_total_exactly_once(inst: clinical_data.Instrument, data: st.DataObject) -> None:
    total = data.draw(st.integers(0, inst.max_total))
    assert sum(b.min <= total <= b.max for b in inst.severity_bands) == 1


@given(st.integers(1, 27), st.integers(0, 27))
def test_response_matches_exact_fraction(baseline: int, total: int) -> None:
    result = scales.score("PHQ-9", phq(total), baseline_total=baseline)
    assert result.total == total
    assert result.response == (total <= baseline / 2)
