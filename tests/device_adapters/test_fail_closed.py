"""Fail closed, keep-alive on its own timer, replies bound to their request: through the real serial path
(``sim://``) with the simulator's fault plans, on its virtual clock.

Where the keep-alive timer thread must act while the test moves virtual time, ``advance_with_keepalive``
moves it in small steps and gives that thread (real time, bounded) the chance to send what is due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

import device_adapters as da
from simulator import Simulator, VirtualClock

from .conftest import UNLOCK

MAY_BE_ARMED = "unit may be armed: press its stop"


def advance_with_keepalive(vclock: VirtualClock, sim: Simulator, seconds: float, step: float = 0.1) -> bool:
    """Move virtual time by ``seconds``; False as soon as the unit goes 0.8 s without a command (its armed
    watchdog is 1 s), i.e. the keep-alive timer did not send one when it was due."""
    device = sim.device
    end = vclock.monotonic() + seconds
    while vclock.monotonic() < end:
        vclock.advance(step)
        give_up = time.monotonic() + 2.0
        while vclock.monotonic() - device.last_command > 0.8:  # type: ignore[attr-defined]
            if time.monotonic() > give_up:
                return False
            time.sleep(0.001)
    return True


def _faults(events: list[da.DeliveryEvent]) -> list[da.Fault]:
    return [e for e in events if isinstance(e, da.Fault)]


def _disarms_received(sim: Simulator) -> list[bytes]:
    """Disarm commands the unit itself saw (not those lost on the line)."""
    return [e.data for e in sim.transcript.entries("in") if e.data[:2] == b"EA" and not e.note]


# ----- fail closed ----------------------------------------------------------------------------------------


def test_magstim_disarm_whose_reply_is_lost_is_confirmed_by_the_units_status(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    events: list[da.DeliveryEvent] = []
    with da.open_stimulator(sim.url, sim.model, clock=vclock, on_event=events.append) as stim:
        stim.set_intensity(40)
        stim.arm()
        sim.faults.add("drop_reply@disarm")
        stim.disarm()
        assert sim.device.state == "standby"  # type: ignore[attr-defined]
        assert not _faults(events)
        stim.arm()  # nothing to confirm: arming is allowed again at once
        assert sim.device.state in ("armed", "ready")  # type: ignore[attr-defined]


def test_magstim_disarm_the_unit_did_not_receive_is_retried(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    events: list[da.DeliveryEvent] = []
    with da.open_stimulator(sim.url, sim.model, clock=vclock, on_event=events.append) as stim:
        stim.set_intensity(40)
        stim.arm()
        sim.faults.add("drop_command@disarm")  # lost on the line: the unit stays armed
        stim.disarm()
        sent = [e for e in sim.transcript.entries("in") if e.data[:2] == b"EA"]
        assert len(sent) == 2 and len(_disarms_received(sim)) == 1  # the retry is the one the unit saw
        assert sim.device.state == "standby"  # type: ignore[attr-defined]
        assert not _faults(events)


def test_magstim_unconfirmed_disarm_fails_closed_and_the_units_watchdog_disarms_it(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    events: list[da.DeliveryEvent] = []
    with da.open_stimulator(sim.url, sim.model, clock=vclock, on_event=events.append) as stim:
        stim.set_intensity(40)
        stim.arm()
        sim.faults.add("drop_command=3@disarm")  # the unit never sees any of the three disarms
        with pytest.raises(da.DisarmUnconfirmed, match=MAY_BE_ARMED):
            stim.disarm()
        assert sim.device.state in ("armed", "ready")  # type: ignore[attr-defined]
        assert [f.error for f in _faults(events)] == ["DisarmUnconfirmed"]
        assert MAY_BE_ARMED in _faults(events)[0].message
        assert stim.disarm_unconfirmed == MAY_BE_ARMED
        for refused in (stim.arm, stim.fire):
            with pytest.raises(da.DisarmUnconfirmed, match="refused"):
                refused()
        failed_closed_at = sim.transcript.entries("in")[-1].at  # the last confirming query
        stim.idle(1.5)  # the driver's own servicing: it must send nothing now
        assert not [e for e in sim.transcript.entries("in") if e.at > failed_closed_at]
        sim.device.advance()
        assert sim.device.state == "standby" and not sim.device.remote  # type: ignore[attr-defined]
        status = stim.status()
        assert not status.armed and stim.disarm_unconfirmed is None
        stim.arm()  # confirmed disarmed: arming (and taking remote control again) is allowed
        assert sim.device.state in ("armed", "ready")  # type: ignore[attr-defined]


def test_magstim_status_read_while_failed_closed_waits_for_the_watchdog(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock, keepalive_thread=False) as stim:
        stim.set_intensity(40)
        stim.arm()
        sim.faults.add("drop_command=3@disarm")
        with pytest.raises(da.DisarmUnconfirmed):
            stim.disarm()
        failed_closed_at = sim.transcript.entries("in")[-1].at
        status = stim.status()  # asked at once: sent only after the unit's 1 s watchdog ran out
        first_after = min(e.at for e in sim.transcript.entries("in") if e.at > failed_closed_at)
        assert first_after - failed_closed_at > 1.0
        assert not status.armed


@pytest.mark.parametrize("model", ["magventure-x100", "magventure-r30"])
def test_magventure_disarm_whose_reply_is_lost_is_retried(
    model: str, make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim(model)
    events: list[da.DeliveryEvent] = []
    with da.open_stimulator(sim.url, model, clock=vclock, on_event=events.append) as stim:
        stim.set_intensity(40)
        stim.arm()
        sim.faults.add("drop_reply@disarm")
        stim.disarm()
        assert not sim.device.enabled  # type: ignore[attr-defined]
        assert not _faults(events)


def test_magventure_unconfirmed_disarm_is_refused_until_a_status_read_shows_it_stopped(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magventure-x100")
    events: list[da.DeliveryEvent] = []
    with da.open_stimulator(sim.url, sim.model, clock=vclock, on_event=events.append) as stim:
        stim.set_intensity(40)
        stim.arm()
        sim.faults.add("drop_command=3@disarm")
        with pytest.raises(da.DisarmUnconfirmed, match=MAY_BE_ARMED):
            stim.disarm()
        assert sim.device.enabled  # type: ignore[attr-defined]
        assert [f.error for f in _faults(events)] == ["DisarmUnconfirmed"]
        with pytest.raises(da.DisarmUnconfirmed):
            stim.arm()
        assert stim.status().armed  # the unit is still enabled: the refusal stands
        with pytest.raises(da.DisarmUnconfirmed):
            stim.fire()
        sim.panel("disable")  # the technician stops it at the unit
        assert not stim.status().armed
        assert stim.disarm_unconfirmed is None
        stim.arm()
        assert sim.device.enabled  # type: ignore[attr-defined]


# ----- keep-alive on its own timer ------------------------------------------------------------------------


def test_keepalive_survives_a_garbled_poll_reply(make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    sim = make_sim("magstim-rapid2", firmware=9)
    events: list[da.DeliveryEvent] = []
    with da.open_stimulator(sim.url, sim.model, clock=vclock, on_event=events.append, unlock_code=UNLOCK) as stim:
        stim.set_intensity(40)
        stim.arm()
        sim.faults.add("bad_checksum@cmd=x")
        assert advance_with_keepalive(vclock, sim, 3.0), "the keep-alive stopped after one garbled reply"
        assert any(e.note == "bad_checksum@cmd=x" for e in sim.transcript.entries("out"))
        assert sim.device.state == "ready" and sim.device.remote  # type: ignore[attr-defined]
        assert not _faults(events)
        assert stim.status().ready


def test_keepalive_is_sent_while_the_delivery_thread_is_held_up(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    release, held = threading.Event(), threading.Event()

    def slow_outbox(event: da.DeliveryEvent) -> None:  # the agent writes every event to disk first
        if isinstance(event, da.TrainStarted) and event.train == 1:
            held.set()
            release.wait(30)

    protocol = da.TrainProtocol(50, 10, 20, 2, 3.0)
    outcome: dict[str, object] = {}
    with da.open_stimulator(sim.url, sim.model, clock=vclock, on_event=slow_outbox) as stim:

        def deliver() -> None:
            try:
                outcome["report"] = stim.run_protocol(protocol)
            except da.DeviceError as exc:
                outcome["error"] = exc

        runner = threading.Thread(target=deliver)
        runner.start()
        try:
            assert held.wait(30)
            kept = advance_with_keepalive(vclock, sim, 3.0)  # the whole first train passes meanwhile
            remote_while_held = sim.device.remote  # type: ignore[attr-defined]
        finally:
            release.set()
            runner.join(60)
    assert kept and remote_while_held, "the keep-alive waited for the delivery thread"
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert isinstance(report, da.DeliveryReport)
    assert report.completed and report.delivered_pulses == 40 == sim.device.pulses


# ----- replies bound to their request ---------------------------------------------------------------------


def test_magstim_late_reply_is_never_taken_as_a_later_commands_answer(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock, keepalive_thread=False) as stim:
        stim.set_intensity(40)
        sim.faults.add("delay=0.7s@cmd=\\")  # this reply (power 40) arrives after its deadline
        with pytest.raises(da.DeviceTimeout):
            stim.read_parameters()
        stim.set_intensity(55)
        sim.faults.add("drop_reply@cmd=\\")  # and the next one's own reply never comes
        try:
            answer: int | None = stim.read_parameters().intensity_a
        except da.DeviceTimeout:
            answer = None
        assert answer != 40, "the late reply to the earlier query was taken as this one's answer"
        assert any("late reply" in f.note for f in stim._transport.recent())


def test_magstim_stale_input_is_flushed_before_a_command(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock, keepalive_thread=False) as stim:
        stim.set_intensity(40)
        sim.faults.add("delay=0.7s@cmd=\\")
        with pytest.raises(da.DeviceTimeout):
            stim.read_parameters()
        stim.set_intensity(55)
        vclock.advance(0.5)  # the late reply (power 40) is in the input buffer now
        assert stim.read_parameters().intensity_a == 55


def test_magventure_late_reply_is_never_taken_as_a_later_requests_answer(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magventure-x100")
    with da.open_stimulator(sim.url, sim.model, clock=vclock, reader_thread=False) as stim:
        stim.set_intensity(40)
        sim.faults.add("delay=2s@cmd=0")  # the status reply (amplitude 40) misses its 1.5 s deadline
        with pytest.raises(da.DeviceTimeout):
            stim.status()
        stim.set_intensity(55)
        sim.faults.add("drop_reply@cmd=0")
        try:
            answer: int | None = stim.status().intensity_a
        except da.DeviceTimeout:
            answer = None
        assert answer != 40, "the late status reply was taken as the answer to the next status request"
