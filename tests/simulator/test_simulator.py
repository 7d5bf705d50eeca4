"""The simulator on its own: defaults, unlock code, faults as data, transcript, timers, sim:// URLs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import serial

import simulator
from simulator import FaultSpecError, Simulator, VirtualClock, parse_faults
from simulator import magstim_codec as mc

from .conftest import UNLOCK


def _cmd(text: str) -> bytes:
    body = text.encode("latin-1")
    return body + bytes([mc.crc(body)])


def _talk(sim: Simulator, frame: bytes) -> bytes:
    sim.device.host_write(frame)
    return sim.device.host_read()


def test_defaults_a_client_can_rely_on(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim("magstim-rapid2")
    assert _talk(sim, _cmd("ND")) == mc.build("N", b"V8.0.0\x00")  # before V9 unless asked
    params = _talk(sim, _cmd("\\@"))
    assert params[1] & mc.STANDBY and params[1] & mc.COIL and not params[1] & mc.REMOTE
    assert params[3:6] == b"030"  # 30 % power
    temps = _talk(sim, _cmd("F@"))
    assert int(temps[2:5]) / 10 < 30 and int(temps[5:8]) / 10 < 30  # cool


def test_v9_requires_the_unlock_code_it_was_started_with(make_sim: Callable[..., Simulator]) -> None:
    with pytest.raises(ValueError, match="unlock code"):
        Simulator("magstim-rapid2", firmware=9)
    sim = make_sim("magstim-rapid2", firmware=9)
    assert _talk(sim, _cmd("Q@")) == mc.error("Q", "data")
    assert _talk(sim, _cmd("Q" + "made-up-wrong-00")) == mc.error("Q", "data")
    reply = _talk(sim, _cmd("Q" + UNLOCK))
    assert reply[0:1] == b"Q" and reply[1] & mc.REMOTE
    assert _talk(sim, _cmd("x@"))[0:1] == b"x"


def test_set_commands_need_remote_control_and_enter_gets_a_question_mark(
    make_sim: Callable[..., Simulator],
) -> None:
    sim = make_sim("magstim-200")
    assert _talk(sim, b"\r") == b"?"
    assert _talk(sim, _cmd("@050")) == mc.error("@", "state")
    _talk(sim, _cmd("Q@"))
    assert _talk(sim, b"@050*")[0:1] == b"@"
    assert _talk(sim, _cmd("J@"))[2:5] == b"050"


def test_reply_shows_the_state_before_the_command(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-200")
    _talk(sim, _cmd("Q@"))
    assert _talk(sim, _cmd("EB"))[1] & mc.STANDBY  # arming: the echo still says standby
    vclock.advance(0.7)
    assert _talk(sim, _cmd("J@"))[1] & mc.READY


def test_keepalive_timeouts(make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    sim = make_sim("magstim-200")
    _talk(sim, _cmd("Q@"))
    _talk(sim, _cmd("EB"))
    vclock.advance(1.5)  # armed, no command for > 1 s
    reply = _talk(sim, _cmd("J@"))
    assert reply[1] & mc.STANDBY and not reply[1] & mc.REMOTE


def test_fault_specs_parse_and_reject_nonsense() -> None:
    faults = parse_faults(
        "drop_reply@cmd=E,bad_checksum@reply=3;coil_overtemp@pulse=1200,unplug@pulse=600,stall=2.5s@arm"
    )
    assert [str(f) for f in faults] == [
        "drop_reply@cmd=E",
        "bad_checksum@reply=3",
        "coil_overtemp@pulse=1200",
        "unplug@pulse=600",
        "stall=2.5s@arm",
    ]
    for bad in ("explode", "drop_reply@when=3", "stall=soon", "bad_checksum@reply=x"):
        with pytest.raises(FaultSpecError):
            parse_faults(bad)


def test_faults_at_start_and_at_run_time_and_the_transcript(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim("magstim-200", faults="drop_reply@cmd=J")
    _talk(sim, _cmd("Q@"))
    assert _talk(sim, _cmd("J@")) == b""
    sim.faults.add("bad_checksum@cmd=J")
    reply = _talk(sim, _cmd("J@"))
    assert mc.crc(reply[:-1]) != reply[-1]
    assert _talk(sim, _cmd("J@"))[-1] == mc.crc(_talk(sim, _cmd("J@"))[:-1])
    entries = sim.transcript.entries()
    assert {e.direction for e in entries} >= {"in", "out"}
    assert any(e.note == "dropped" for e in entries) and "J@" in repr(sim.transcript.commands())


def test_magventure_hang_until_restart(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim("magventure-x100", faults="hang")
    status = bytes.fromhex("FE 01 00 00 FF")
    assert _talk(sim, status) == b""
    sim.panel("restart")
    assert _talk(sim, status)[:3] == bytes.fromhex("FE 09 00")


def test_plain_sim_urls_work_through_serial_for_url() -> None:
    assert "simulator" in serial.protocol_handler_packages
    port = serial.serial_for_url(
        f"sim://magstim-rapid2?firmware=9&unlock_code={UNLOCK}&faults=nul=2", timeout=0.5
    )
    try:
        port.write(_cmd("Q" + UNLOCK))
        assert port.read(5)[:3] == b"\x00\x00Q"
        port.rts = True  # modem lines are accepted and ignored
        port.dtr = False
    finally:
        port.close()
    with pytest.raises(serial.SerialException):
        serial.serial_for_url("sim://magstim-rapid2?device=nobody")


def test_virtual_clock_blocking_read_jumps_to_due_output(
    make_sim: Callable[..., Simulator], vclock: VirtualClock
) -> None:
    sim = make_sim("magstim-200", faults="delay=3s@cmd=Q")
    port = serial.serial_for_url(sim.url, timeout=5)
    start = vclock.monotonic()
    port.write(_cmd("Q@"))
    assert port.read(3)[:1] == b"Q"
    assert 3.0 <= vclock.monotonic() - start < 5.0
    port.close()
    assert simulator.lookup(sim.name) is sim
