"""Fault matrix: every simulator fault × the driver's response.

In each case the driver raises the right typed error (carrying the last frames), reports a Fault
event, and the device ends disarmed (or unreachable); no thread or port is left open (the autouse
``no_leftover_threads`` fixture checks threads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

import device_adapters as da
from simulator import Simulator, VirtualClock

from .conftest import UNLOCK

TEN_HZ = da.TrainProtocol(60, 10, 50, 60, 25)


def _arm(stim: da.Stimulator) -> None:
    stim.set_intensity(50)
    stim.arm()


def _configure(stim: da.Stimulator) -> None:
    stim.set_intensity(60)
    stim.configure_train(10, 50, 60, 25)


ACTIONS: dict[str, Callable[[da.Stimulator], object]] = {
    "arm": _arm,
    "status": lambda stim: stim.status(),
    "intensity": lambda stim: stim.set_intensity(50),
    "configure": _configure,
    "protocol": lambda stim: stim.run_protocol(TEN_HZ),
}


@dataclass
class Case:
    """One row of the matrix: ``error=None`` means the driver absorbs the fault."""

    id: str
    model: str
    faults: str
    action: str
    error: type[Exception] | None
    reachable: bool = True
    sim: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


CASES = [
    Case("magstim drop reply", "magstim-rapid2", "drop_reply@cmd=E", "arm", da.DeviceTimeout),
    Case("magstim bad checksum", "magstim-rapid2", "bad_checksum@cmd=@", "intensity", da.ChecksumError),
    Case("magstim answers ?", "magstim-rapid2", "answer=?@cmd=B", "configure", da.CommandRejected),
    Case("magstim answers bad data", "magstim-rapid2", "answer=data@cmd=@", "intensity", da.DataRejected),
    Case("magstim answers S", "magstim-rapid2", "answer=S@cmd=D", "configure", da.StateRejected),
    Case("magstim stray NULs", "magstim-rapid2", "nul=4@cmd=\\", "status", None),
    Case("magstim short delay", "magstim-rapid2", "delay=0.2s@cmd=F", "status", None),
    Case("magstim long delay", "magstim-rapid2", "delay=2s@cmd=F", "status", da.DeviceTimeout),
    Case("magstim stall on arm", "magstim-rapid2", "stall=2.5s@arm", "arm", da.DeviceTimeout),
    Case("magstim loses remote", "magstim-rapid2", "lose_remote@pulse=100", "protocol", da.RemoteControlLost),
    Case("magstim coil overtemp", "magstim-rapid2", "coil_overtemp@pulse=1200", "protocol", da.CoilFault),
    Case("magstim coil absent", "magstim-rapid2", "coil_absent@pulse=30", "protocol", da.CoilFault),
    Case("magstim replace coil", "magstim-200", "replace_coil", "status", da.CoilFault),
    Case("magstim fatal error", "magstim-rapid2", "fatal_error@pulse=75", "protocol", da.DeviceFault),
    Case("magstim coil lifted", "magstim-rapid2", "lift_coil@pulse=20", "protocol", da.InterlockError),
    Case("magstim hot coil refuses arm", "magstim-rapid2", "coil_overtemp", "arm", da.CoilFault),
    Case(
        "magstim unplugged",
        "magstim-rapid2",
        "unplug@pulse=600",
        "protocol",
        da.Disconnected,
        reachable=False,
    ),
    Case(
        "magstim V9 loses remote",
        "magstim-rapid2",
        "lose_remote@pulse=10",
        "protocol",
        da.RemoteControlLost,
        sim={"firmware": 9},
        options={"unlock_code": UNLOCK},
    ),
    Case("magstim 200 drop reply", "magstim-200", "drop_reply@cmd=J", "status", da.DeviceTimeout),
    Case("magventure drop reply", "magventure-x100", "drop_reply@cmd=0", "status", da.DeviceTimeout),
    Case("magventure bad crc", "magventure-x100", "bad_checksum@cmd=1", "intensity", da.ChecksumError),
    Case("magventure bad crc mid-train", "magventure-x100", "bad_checksum@pulse=5", "protocol", None),
    Case("magventure stray NULs", "magventure-x100", "nul=3@cmd=0", "status", None),
    Case("magventure long delay", "magventure-x100", "delay=3s@cmd=0", "status", da.DeviceTimeout),
    Case(
        "magventure stops answering",
        "magventure-x100",
        "hang@pulse=300",
        "protocol",
        da.DeviceTimeout,
        reachable=False,
    ),
    Case("magventure coil overtemp", "magventure-x100", "coil_overtemp@pulse=1200", "protocol", da.CoilFault),
    Case("magventure coil absent", "magventure-r30", "coil_absent@pulse=40", "protocol", da.CoilFault),
    Case("magventure coil lifted", "magventure-x100", "lift_coil@pulse=100", "protocol", da.InterlockError),
    Case(
        "magventure unplugged",
        "magventure-x100",
        "unplug@pulse=600",
        "protocol",
        da.Disconnected,
        reachable=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    sim = make_sim(case.model, **case.sim)
    events: list[da.DeliveryEvent] = []
    stim = da.open_stimulator(sim.url, case.model, clock=vclock, on_event=events.append, **case.options)
    sim.faults.add(case.faults)
    with stim:
        if case.error is None:
            ACTIONS[case.action](stim)
        else:
            with pytest.raises(case.error) as caught:
                ACTIONS[case.action](stim)
            error = caught.value
            assert isinstance(error, da.DeviceError) and error.frames, "errors carry the last frames"
            assert any(isinstance(e, da.Fault) and e.error == type(error).__name__ for e in events)
    assert not stim._transport.is_open
    vclock.advance(2.0)  # an unreachable Magstim disarms itself once the keep-alive stops (1 s)
    sim.device.advance()
    device = sim.device
    if case.reachable or case.model.startswith("magstim"):
        assert getattr(device, "state", "standby") == "standby"
        assert not getattr(device, "enabled", False)
    else:
        assert device.unplugged or device.hung


def test_a_fault_matching_bad_checksum_on_a_pulse_message_is_reported(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magventure-x100")
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:
        stim.program(TEN_HZ)
        sim.faults.add(f"bad_checksum@reply={sim.device.replies_sent + 40}")
        with pytest.raises(da.ChecksumError):
            stim.run_protocol()
    assert not sim.device.enabled  # type: ignore[attr-defined]


def test_rapid_v9_refuses_remote_without_the_unlock_code(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2", firmware=9)
    with pytest.raises(da.DataRejected, match="unlock_code"):
        da.open_stimulator(sim.url, sim.model, clock=vclock)
    with pytest.raises(da.DataRejected, match="refused the unlock code"):
        da.open_stimulator(sim.url, sim.model, clock=vclock, unlock_code="made-up-wrong-00")
    assert not sim.device.remote  # type: ignore[attr-defined]


def test_idle_without_keepalive_loses_remote(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock, keepalive_thread=False) as stim:
        vclock.advance(11)  # standby: the unit drops remote control after 10 s without a command
        with pytest.raises(da.RemoteControlLost):
            stim.set_intensity(40)


def test_keepalive_keeps_remote_while_idle(make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:
        stim.set_intensity(40)
        stim.arm()
        stim.idle(30)  # armed: a command every 0.5 s or the unit disarms after 1 s
        assert stim.status().state == "ready"
    assert sim.device.state == "standby"  # type: ignore[attr-defined]


def test_auto_disarm_after_a_minute_armed_is_seen(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-200")
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:
        stim.arm()
        with pytest.raises(da.StoppedAtDevice):
            stim.idle(65)  # docs/device-protocols.md §1.8: more than 1 min armed without firing disarms


CUT_SHORT = ["lose_remote@pulse=125", "fatal_error@pulse=75", "lift_coil@pulse=20", "coil_absent@pulse=30",
             "unplug@pulse=140", "drop_reply@fire", "hang@pulse=60", "stall=3s@pulse=60"]


@pytest.mark.parametrize("fault", CUT_SHORT)
def test_a_rapid2_train_cut_short_is_never_counted_below_what_the_unit_gave(
        make_sim: Callable[..., Simulator], vclock: VirtualClock, fault: str) -> None:
    """A Rapid² reports no pulse count: a train a fault cut short is estimated, and that estimate is what a resume
    is budgeted on, so it must bound what the unit gave, however late the driver learnt of the stop (a poll, a
    reply that never came, a line that went dead and left the unit to its watchdog)."""
    sim = make_sim("magstim-rapid2")
    events: list[da.DeliveryEvent] = []
    stim = da.open_stimulator(sim.url, "magstim-rapid2", clock=vclock, on_event=events.append)
    sim.faults.add(fault)
    with stim, pytest.raises(da.DeviceError):
        stim.run_protocol(TEN_HZ)
    vclock.advance(2.0)  # whatever the unit still does, its 1 s watchdog ends
    sim.device.advance()
    ended = [e for e in events if isinstance(e, da.TrainEnded)]
    started = [e for e in events if isinstance(e, da.TrainStarted)]
    counted = sum(e.delivered_pulses for e in ended)
    assert len(ended) == len(started) and ended[-1].estimated and not ended[-1].completed, ended[-1:]
    assert sim.device.pulses <= counted <= TEN_HZ.pulses_per_train * len(started), (sim.device.pulses, counted)
