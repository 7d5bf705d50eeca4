"""IFCN single-train table, ITI rule, whitelist, override and session spacing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.rules import protocols, safety_table
from service.rules.errors import RuleInputError
from service.rules.protocols import ProtocolParams, SignedOverride


def simple(
    hz: float, pct: float, train_s: float, iti_s: float = 26, trains: int = 10, coil: str = "figure8"
) -> ProtocolParams:
    return ProtocolParams(pct, train_s, iti_s, trains, frequency_hz=hz, coil=coil)


@pytest.mark.parametrize(
    ("hz", "pct", "train_s", "ok"),
    [
        (10, 120, 4, True),
        (10, 120, 4.2, True),
        (10, 120, 5, False),
        (20, 110, 1.6, True),
        (20, 110, 1.7, False),
        (10, 110, 5, True),
        (10, 130, 2.9, True),
        (10, 130, 3.0, False),
        (1, 110, 1800, True),
        (1, 120, 361, False),
        (18, 120, 1.0, True),  # between rows: uses the 20 Hz row
        (18, 120, 2.0, False),
        (10, 115, 4.2, True),  # between columns: uses the 120% column
        (10, 115, 4.3, False),
        (10, 80, 5, True),  # below the table: uses the 90% column
    ],
)
def test_single_train_limits(hz: float, pct: float, train_s: float, ok: bool) -> None:
    result = protocols.validate(simple(hz, pct, train_s))
    assert result.ok is ok
    if not ok:
        assert result.needs_signed_override
        v = result.violations[0]
        assert v.rule == "ifcn_single_train" and v.value == train_s
        assert isinstance(v.limit, float) and v.limit < train_s


def test_violation_shape_for_the_api() -> None:
    v = protocols.validate(simple(10, 120, 5)).violations[0]
    assert (v.rule, v.limit, v.value) == ("ifcn_single_train", 4.2, 5)
    assert "4.2 s" in v.message and "Rossi 2009" in v.message


def test_outside_the_table() -> None:
    above = protocols.validate(simple(10, 140, 1))
    assert [v.rule for v in above.violations] == ["ifcn_table_coverage"]
    fast = protocols.validate(simple(30, 100, 0.1))
    assert [v.rule for v in fast.violations] == ["ifcn_table_coverage"]


def test_unverified_25hz_cell_needs_sign_off() -> None:
    result = protocols.validate(simple(25, 110, 0.2))
    assert [v.rule for v in result.violations] == ["ifcn_cell_unverified"]


@pytest.mark.parametrize(
    ("iti", "pct", "rule"),
    [(5, 110, None), (4, 110, "iti_minimum"), (1, 110, "iti_unsafe"), (1, 100, "iti_minimum")],
)
def test_inter_train_interval(iti: float, pct: float, rule: str | None) -> None:
    result = protocols.validate(simple(20, pct, 1.6 if pct <= 110 else 1.0, iti_s=iti))
    assert [v.rule for v in result.violations] == ([rule] if rule else [])


def test_single_train_has_no_iti_rule() -> None:
    assert safety_table.check_iti(20, 110, 0, trains=1) == []


def test_chen_margin_is_data() -> None:
    table = safety_table.clinical_data.safety_table()
    assert table.safety_margin_factor == 1.0


@pytest.mark.parametrize(
    "protocol_id", ["hf10_3000_iti26", "hf10_3000_iti11", "itbs_600", "dtms_h1_18hz_1980", "accelerated_itbs_1800"]
)
def test_cleared_protocols_are_whitelisted(protocol_id: str) -> None:
    p = protocols.get(protocol_id)
    params = ProtocolParams(
        p.intensity_pct,
        p.train_duration_s,
        p.iti_s,
        p.trains,
        frequency_hz=p.frequency_hz,
        pattern=p.pattern,
        pulses_per_burst=p.burst.pulses_per_burst if p.burst else None,
        burst_frequency_hz=p.burst.burst_frequency_hz if p.burst else None,
        burst_rate_hz=p.burst.burst_rate_hz if p.burst else None,
        coil=p.coil,
        intensity_basis=p.intensity_basis,
    )
    result = protocols.validate(params)
    assert result.ok and result.whitelisted_protocol_id == protocol_id
    assert result.timing.total_pulses == p.total_pulses


def test_deep_tms_parameters_off_the_whitelist_are_outside_the_table() -> None:
    # A 2 s 18 Hz train would fail the 20 Hz / 120% cell; the H-coil is not covered at all.
    result = protocols.validate(simple(18, 120, 2, iti_s=20, trains=50, coil="h1"))
    assert [v.rule for v in result.violations] == ["ifcn_table_coverage"]


def test_custom_theta_burst_needs_override_and_override_allows() -> None:
    params = ProtocolParams(
        80, 2, 8, 20, pattern="theta_burst", pulses_per_burst=3, burst_frequency_hz=50, burst_rate_hz=5
    )
    result = protocols.validate(params)
    assert not result.ok and result.needs_signed_override
    assert not result.allowed(None)
    assert result.allowed(SignedOverride("Dr Shah", datetime(2025, 6, 2, 9), "CANMAT 80% TBS"))
    assert not result.allowed(SignedOverride("Dr Shah", datetime(2025, 6, 2, 9), " "))
    assert result.timing.total_pulses == 600


def test_lf_1hz_catalog_entry_validates_against_the_table() -> None:
    p = protocols.get("lf1_rdlpfc")
    result = protocols.validate(simple(1, p.intensity_pct, p.train_duration_s, iti_s=0, trains=1))
    assert result.ok and result.whitelisted_protocol_id is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (simple(10, 120, 0), "train_duration_s"),
        (simple(10, 0, 4), "intensity_pct_mt"),
        (simple(10, 120, 4, iti_s=-1), "iti_s"),
        (simple(10, 120, 4, trains=0), "trains"),
        (ProtocolParams(120, 4, 26, 75), "frequency_hz"),
        (ProtocolParams(120, 2, 8, 20, pattern="theta_burst"), "pulses_per_burst"),
    ],
)
def test_invalid_params(params: ProtocolParams, field: str) -> None:
    with pytest.raises(RuleInputError) as err:
        protocols.validate(params)
    assert err.value.field == field


def test_unknown_protocol() -> None:
    with pytest.raises(RuleInputError) as err:
        protocols.get("nope")
    assert err.value.field == "protocol_id"


NOW = datetime(2025, 6, 2, 15, 0)


def test_standard_protocol_once_a_day() -> None:
    p = protocols.get("hf10_3000_iti26")
    assert protocols.session_spacing(p, (NOW - timedelta(days=1),), NOW) == []
    assert [v.rule for v in protocols.session_spacing(p, (NOW - timedelta(hours=5),), NOW)] == ["daily_limit"]


def test_accelerated_ten_a_day_fifty_minutes_from_the_end_of_the_last() -> None:
    p = protocols.get("accelerated_itbs_1800")  # 592 s a session: the pause starts 9 min 52 s after the start
    assert protocols.session_spacing(p, (NOW - timedelta(minutes=59, seconds=52),), NOW) == []
    early = protocols.session_spacing(p, (NOW - timedelta(minutes=59, seconds=51),), NOW)
    assert [(v.rule, v.limit) for v in early] == [("min_interval", 50)]
    assert "from the end of one session" in early[0].message
    assert protocols.min_start_gap(p) == timedelta(minutes=59, seconds=52)
    ten = tuple(NOW - timedelta(minutes=60 * i) for i in range(1, 11))
    assert [v.rule for v in protocols.session_spacing(p, ten, NOW)] == ["daily_limit"]
    with pytest.raises(RuleInputError):
        protocols.session_spacing(p, (NOW + timedelta(minutes=1),), NOW)
