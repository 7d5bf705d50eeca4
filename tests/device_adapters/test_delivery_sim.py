"""Drivers against the simulator through sim:// on a virtual clock: full protocols, exact counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

import device_adapters as da
from simulator import Simulator, VirtualClock

from .conftest import UNLOCK

TEN_HZ = da.TrainProtocol(60, 10, 50, 60, 25)  # 3000 pulses: 5 s trains, 25 s pauses
ITBS = da.TrainProtocol(60, 5, 30, 20, 8, burst_pulses=3, burst_ipi_ms=20)  # 600 pulses


def _open(sim: Simulator, clock: VirtualClock, **options: object) -> da.Stimulator:
    return da.open_stimulator(sim.url, sim.model, clock=clock, **options)


@pytest.mark.parametrize(
    ("model", "sim_kwargs", "options"),
    [
        ("magstim-rapid2", {}, {}),
        ("magstim-rapid2", {"firmware": 9}, {"unlock_code": UNLOCK}),
        ("magventure-x100", {}, {}),
        ("magventure-r30", {}, {"command_set": "magic"}),
    ],
    ids=["rapid2-v8", "rapid2-v9", "x100", "r30-magic-ids"],
)
def test_full_10hz_3000_pulse_protocol(
    make_sim: Callable[..., Simulator], vclock: VirtualClock, model: str, sim_kwargs: dict, options: dict
) -> None:
    sim = make_sim(model, **sim_kwargs)
    seen: list[da.DeliveryEvent] = []
    with _open(sim, vclock, **options) as stim:
        stim.subscribe(seen.append)
        identity = stim.identify()
        assert identity.model == model
        params = stim.program(TEN_HZ)
        assert params.differences(TEN_HZ) == []
        report = stim.run_protocol()
        events = list(stim.iter_events())
    assert report.completed and report.delivered_pulses == 3000 == sim.device.pulses
    assert len(report.trains) == 60 and all(t.delivered_pulses == 50 and t.completed for t in report.trains)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.seq for e in seen] == [e.seq for e in events][
        len(events) - len(seen) :
    ]  # subscribed after connect
    ended = [e for e in events if isinstance(e, da.TrainEnded)]
    assert sum(e.delivered_pulses for e in ended) == 3000 and not any(e.estimated for e in ended)
    assert sum(e.count for e in events if isinstance(e, da.PulsesDelivered)) == 3000
    _assert_disarmed(sim)


def test_600_pulse_itbs_on_x100(make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    sim = make_sim("magventure-x100")
    with _open(sim, vclock) as stim:
        report = stim.run_protocol(ITBS)
    assert report.completed and report.delivered_pulses == 600 == sim.device.pulses
    assert len(report.trains) == 20 and all(t.delivered_pulses == 30 for t in report.trains)
    assert report.parameters is not None and report.parameters.burst_ipi_ms == 20.0
    _assert_disarmed(sim)


def test_itbs_refused_where_the_device_has_no_burst(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    for model in ("magventure-r30", "magstim-rapid2"):
        sim = make_sim(model)
        with _open(sim, vclock) as stim, pytest.raises(da.LimitError, match="burst"):
            stim.run_protocol(ITBS)
        assert sim.device.pulses == 0


def test_control_mode_stops_at_the_prescribed_count(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magventure-x100")
    with _open(sim, vclock) as stim:
        stim.program(da.TrainProtocol(50, 10, 20, 3, 2))
        sim.panel("timing", trains=10)  # someone adds trains at the unit after programming
        report = stim.run_protocol(da.TrainProtocol(50, 10, 20, 3, 2))
    assert report.delivered_pulses == 60


def test_single_pulses_on_200_and_bistim(make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    for model in ("magstim-200", "magstim-bistim"):
        sim = make_sim(model)
        with _open(sim, vclock) as stim:
            stim.set_intensity(45)
            if model == "magstim-bistim":
                stim.set_intensity(40, channel="B")
                stim.set_pulse_interval(3.5, high_resolution=True)  # type: ignore[attr-defined]
            stim.arm()
            assert stim.status().state == "ready"
            assert [stim.fire() for _ in range(3)] == [1, 1, 1]
            assert stim.read_parameters().intensity_a == 45
            with pytest.raises(da.LimitError, match="single pulses"):
                stim.configure_train(1, 10, 1, 1)
        assert sim.device.pulses == 3
        _assert_disarmed(sim)


@pytest.mark.parametrize("model", ["magstim-rapid2", "magventure-x100"])
def test_record_mode_observes_front_panel_protocol(
    make_sim: Callable[..., Simulator], vclock: VirtualClock, model: str
) -> None:
    sim = make_sim(model)
    with _open(sim, vclock) as stim:
        stim.program(da.TrainProtocol(50, 10, 40, 4, 6))
        stim.disarm()
        vclock.advance(0.1)
        started: list[da.DeliveryEvent] = []
        stim.subscribe(
            lambda e: started.append(e) if isinstance(e, da.TrainStarted) and e.train == 1 else None
        )

        _start_panel_soon(stim, sim, trains=4, iti=6)
        report = stim.record(expected_pulses=160, idle_timeout_s=20, timeout_s=600)
    assert report.mode == "record" and report.delivered_pulses == 160 == sim.device.pulses
    assert len(report.trains) == 4 and report.completed and started


@pytest.mark.parametrize("mode", ["control", "record"])
@pytest.mark.parametrize("model", ["magstim-rapid2", "magventure-x100"])
def test_every_train_is_dated_no_later_than_its_first_pulse(
    make_sim: Callable[..., Simulator], vclock: VirtualClock, model: str, mode: str
) -> None:
    """A train whose end no report gives (its agent died) is estimated from its start to the run's end, so its
    start must never be dated after the unit began it: not by a slow reply to the trigger, nor by the poll or
    read that brought the news."""
    sim = make_sim(model)
    device = sim.device
    pulse_times: list[float] = []
    original = device._pulse  # type: ignore[attr-defined]

    def pulse(at: float) -> None:  # the unit's own time of each pulse
        pulse_times.append(at)
        original(at)

    device._pulse = pulse  # type: ignore[attr-defined]
    protocol = da.TrainProtocol(50, 10, 20, 3, 4)
    started: list[da.TrainStarted] = []
    with _open(sim, vclock) as stim:
        stim.program(protocol)
        stim.subscribe(lambda e: started.append(e) if isinstance(e, da.TrainStarted) else None)
        if mode == "control":
            sim.faults.add("delay=0.3s@fire")  # the trigger's reply comes late: the train ran meanwhile
            report = stim.run_protocol()
        else:
            stim.disarm()
            _start_panel_soon(stim, sim, trains=3, iti=4)
            report = stim.record(expected_pulses=60, idle_timeout_s=20, timeout_s=600)
    assert report.delivered_pulses == 60 == len(pulse_times)
    assert [e.train for e in started] == [1, 2, 3]
    for event in started:
        first = pulse_times[(event.train - 1) * protocol.pulses_per_train]
        assert event.monotonic <= first, (event.train, event.monotonic, first)
        assert event.at <= vclock.now() - timedelta(seconds=vclock.monotonic() - first), event


def _start_panel_soon(stim: da.Stimulator, sim: Simulator, trains: int, iti: float) -> None:
    """Press start at the unit once the driver has released the panel (first poll of record mode)."""
    device = sim.device
    original = device.host_write
    pressed = False

    def write(data: bytes) -> None:
        nonlocal pressed
        original(data)
        if not pressed and not getattr(device, "remote", False):
            pressed = True
            sim.panel("start", trains=trains, inter_train_interval_s=iti)

    device.host_write = write  # type: ignore[method-assign]


def test_stop_pressed_at_the_unit_interrupts_control_mode(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    with _open(sim, vclock) as stim:
        stim.program(TEN_HZ)
        stop_at = 125
        device = sim.device
        original = device.pulse_delivered

        def pulse() -> None:
            original()
            if device.pulses == stop_at:
                device.disarm()  # the technician's stop button

        device.pulse_delivered = pulse  # type: ignore[method-assign]
        report = stim.run_protocol()
    assert not report.completed and report.reason and "stopped" in report.reason
    assert report.trains[-1].estimated and report.delivered_pulses == pytest.approx(stop_at, abs=3)
    _assert_disarmed(sim)


def test_callbacks_and_iterator_see_the_same_events(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magventure-x100")
    got: list[int] = []
    with _open(sim, vclock, on_event=lambda e: got.append(e.seq)) as stim:
        stim.run_protocol(da.TrainProtocol(40, 10, 10, 2, 1))
        seqs = [e.seq for e in stim.iter_events()]
    assert seqs == got and seqs == sorted(set(seqs))


def test_events_serialise_to_the_wire_schema(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magventure-x100")
    with _open(sim, vclock) as stim:
        stim.run_protocol(da.TrainProtocol(40, 10, 10, 1, 1))
        wire = [e.to_dict() for e in stim.iter_events()]
    kinds = {w["kind"] for w in wire}
    assert {"train_started", "train_ended", "pulses_delivered", "state_changed"} <= kinds
    assert all(isinstance(w["at"], str) and isinstance(w["seq"], int) for w in wire)


def _assert_disarmed(sim: Simulator) -> None:
    device = sim.device
    assert getattr(device, "state", "standby") == "standby"
    assert not getattr(device, "enabled", False)
    assert not getattr(device, "remote", False), "remote control handed back on close"
