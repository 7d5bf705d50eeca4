"""Refuse, never clamp: out-of-range requests raise with the limit in the message and send nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import device_adapters as da
from config.device_profiles import load_profile
from device_adapters.limits import check_magventure_train, check_rapid_train
from simulator import Simulator, VirtualClock

RAPID = load_profile("magstim-rapid2")
X100 = load_profile("magventure-x100")


def test_intensity_above_maximum_is_refused_with_the_limit(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:
        sent = len(sim.transcript.commands())
        with pytest.raises(da.LimitError, match=r"intensity 105% exceeds the maximum output of 100%"):
            stim.set_intensity(105)
        with pytest.raises(da.LimitError, match="whole percentage"):
            stim.set_intensity(50.5)  # type: ignore[arg-type]
        with pytest.raises(da.LimitError, match="no channel 'B'"):
            stim.set_intensity(50, channel="B")
        assert not any(c.startswith(b"@") for c in sim.transcript.commands()[sent:])
    assert sim.device.power[0] == 30  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("protocol", "message"),
    [
        (da.TrainProtocol(50, 31, 31, 1, 1), r"frequency 31 Hz exceeds the maximum of 30 Hz at 50% power"),
        (da.TrainProtocol(100, 16, 16, 1, 1), r"frequency 16 Hz exceeds the maximum of 15 Hz at 100% power"),
        (da.TrainProtocol(30, 10, 1100, 1, 1), r"1100 pulses per train exceeds the maximum of 1000"),
        (da.TrainProtocol(30, 3, 10, 1, 1), r"not a multiple of 0.1 s"),
        (da.TrainProtocol(73, 10, 500, 1, 1), r"train of 50 s exceeds the maximum on-time of 46.94 s"),
        (da.TrainProtocol(73, 10, 400, 2, 1), r"below the minimum wait of 11.12 s"),
    ],
)
def test_rapid_train_limits(protocol: da.TrainProtocol, message: str) -> None:
    with pytest.raises(da.LimitError, match=message):
        check_rapid_train(RAPID, protocol, 8 if protocol.pulses_per_train > 1000 else 9, "240", "rapid")


def test_rapid_official_wait_example_is_the_boundary() -> None:
    # TDb087 §3 example: 73 %, 25 Hz, 10 s → 21.95 s wait (on a Super Rapid, where 25 Hz at 73 % is allowed)
    ok = da.TrainProtocol(73, 25, 250, 2, 21.96)
    check_rapid_train(RAPID, ok, 9, "240", "super")
    with pytest.raises(da.LimitError, match=r"minimum wait of 21.95 s"):
        check_rapid_train(RAPID, da.TrainProtocol(73, 25, 250, 2, 21.9), 9, "240", "super")


@pytest.mark.parametrize(
    ("protocol", "message"),
    [
        (da.TrainProtocol(50, 101, 10, 1, 1), r"rate 101 pps exceeds the maximum of 100 pps"),
        (
            da.TrainProtocol(50, 25, 30, 1, 1, burst_pulses=3, burst_ipi_ms=20),
            r"exceeds the maximum of 20 pps",
        ),
        (da.TrainProtocol(50, 5, 30, 1, 1, burst_pulses=3, burst_ipi_ms=20.3), r"not a MagPro setting"),
        (da.TrainProtocol(50, 5, 150, 1, 1), r"150 stimuli per train is not a MagPro setting"),
        (da.TrainProtocol(50, 5, 10, 501, 1), r"501 trains exceeds the maximum of 500"),
        (da.TrainProtocol(50, 5, 10, 2, 121), r"outside 0.1–120 s"),
    ],
)
def test_magventure_limits(protocol: da.TrainProtocol, message: str) -> None:
    with pytest.raises(da.LimitError, match=message):
        check_magventure_train(X100, protocol)


def test_r30_cannot_burst() -> None:
    with pytest.raises(da.LimitError, match="cannot deliver burst"):
        check_magventure_train(load_profile("magventure-r30"), da.TrainProtocol(50, 5, 30, 1, 1, 3, 20))


def test_raising_power_past_the_configured_frequency_is_refused(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:
        stim.set_intensity(40)
        stim.configure_train(30, 60, 1, 1)
        with pytest.raises(da.LimitError, match=r"frequency 30 Hz exceeds the maximum of 25 Hz at 60% power"):
            stim.set_intensity(60)
        assert stim.read_parameters().intensity_a == 40
