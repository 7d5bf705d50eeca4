"""The one dose check: whitelist, depth-adjusted intensities placed in the table, the schedule, the device."""

from __future__ import annotations

from service.rules import dose_check, protocols


def test_a_cleared_protocol_at_its_intensity_passes_as_that_protocol() -> None:
    result = dose_check.check(protocols.get("hf10_3000_iti26"), 120, mt_pct_mso=50)
    assert result.within_table and result.whitelisted_protocol_id == "hf10_3000_iti26"
    assert result.dose is not None and result.dose.output_pct_mso == 60


def test_depth_adjusted_is_converted_with_the_mt_or_refused() -> None:
    saint = protocols.get("accelerated_itbs_1800")
    cleared = dose_check.check(saint, 90, mt_pct_mso=50, depth_adjusted_mt_pct_mso=56)
    assert cleared.within_table and cleared.intensity_pct_rmt == 100.8
    # The same protocol at another intensity is not the cleared one: the table does not cover theta burst.
    other = dose_check.check(saint, 100, mt_pct_mso=50, depth_adjusted_mt_pct_mso=56)
    assert [v.rule for v in other.violations] == ["ifcn_table_coverage"]
    unknown = dose_check.check(saint, 100)
    assert [v.rule for v in unknown.violations] == ["ifcn_intensity_basis"] and unknown.intensity_pct_rmt is None


def test_a_simple_depth_adjusted_protocol_is_judged_at_its_resting_mt_equivalent() -> None:
    params = protocols.ProtocolParams(110, 4, 26, 75, frequency_hz=10, intensity_basis="rMT_depth_adjusted")
    assert [v.rule for v in protocols.validate(params).violations] == ["ifcn_intensity_basis"]
    ten = protocols.get("hf10_3000_iti26").model_copy(update={"intensity_basis": "rMT_depth_adjusted"})
    # 110% of a depth-adjusted MT of 56 with a resting MT of 50 is 123.2% of resting MT: the 130% cell, 2.9 s
    result = dose_check.check(ten, 110, mt_pct_mso=50, depth_adjusted_mt_pct_mso=56)
    assert result.intensity_pct_rmt == 123.2
    assert [(v.rule, v.limit) for v in result.violations] == [("ifcn_single_train", 2.9)]
    within = dose_check.check(ten, 100, mt_pct_mso=50, depth_adjusted_mt_pct_mso=52)  # 104% of resting MT
    assert within.within_table


def test_the_device_maximum_is_a_refusal_no_override_can_lift() -> None:
    result = dose_check.check(protocols.get("hf10_3000_iti26"), 120, mt_pct_mso=90, device_max_pct=100)
    assert result.within_table and result.dose is None and result.device_refusal is not None
    assert result.device_refusal.limit == 100
