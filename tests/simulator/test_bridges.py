"""The simulator as a separate process (``python -m simulator``): real pty and TCP clients."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
import serial

import device_adapters as da
from simulator import magstim_codec as mc

Spawn = Callable[..., tuple[subprocess.Popen[str], str]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start ``python -m simulator ...``; return the process and its first stdout line."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        return proc, proc.stdout.readline().strip()

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=10)


def test_rapid2_full_10hz_3000_pulses_through_a_real_pty(spawn: Spawn) -> None:
    speed = 25.0  # both ends run the same scaled clock; 1 s pauses keep the run short
    # At 25× the unit's 1 s armed keep-alive would be 40 ms of real time, which a loaded CI machine
    # can miss; keep-alive behaviour is tested on the virtual clock, so relax it here.
    proc, path = spawn(
        "--model",
        "magstim-rapid2",
        "--firmware",
        "9",
        "--unlock-code",
        "test-unlock-0000",
        "--pty",
        "--speed",
        str(speed),
        "--option",
        "armed_timeout_s=20",
    )
    assert path.startswith("/dev/")
    protocol = da.TrainProtocol(60, 10, 50, 60, 1)
    # A generous reply timeout for the same reason.
    with da.open_stimulator(
        path,
        "magstim-rapid2",
        clock=da.ScaledClock(speed),
        unlock_code="test-unlock-0000",
        reply_timeout_s=5.0,
    ) as stim:
        assert stim.identify().firmware == "9.0.0"
        report = stim.run_protocol(protocol)
    assert report.completed and report.delivered_pulses == 3000
    assert [t.delivered_pulses for t in report.trains] == [50] * 60


# Scaled time shrinks the driver's margins too: between two trains it allows 10 s more silence than the interval,
# which at 400x was 25 ms of real time, less than a loaded CI machine may keep a process waiting. At 100x it is 100 ms.
@pytest.mark.parametrize(
    ("protocol", "speed", "total"),
    [
        (da.TrainProtocol(60, 10, 50, 60, 25), 100.0, 3000),
        (da.TrainProtocol(60, 5, 30, 20, 8, burst_pulses=3, burst_ipi_ms=20), 100.0, 600),
    ],
    ids=["10hz-3000", "itbs-600"],
)
def test_x100_protocols_through_a_real_pty(
    spawn: Spawn, protocol: da.TrainProtocol, speed: float, total: int
) -> None:
    _, path = spawn("--model", "magventure-x100", "--pty", "--speed", str(speed))
    pulses: list[int] = []
    with da.open_stimulator(
        path,
        "magventure-x100",
        clock=da.ScaledClock(speed),
        reply_timeout_s=0.5 * speed,
        on_event=lambda e: pulses.append(e.count) if isinstance(e, da.PulsesDelivered) else None,
    ) as stim:
        report = stim.run_protocol(protocol)
    assert report.completed and report.delivered_pulses == total == sum(pulses)


def test_pty_survives_reopen_and_modem_line_toggling(spawn: Spawn) -> None:
    _, path = spawn("--model", "magstim-200", "--pty")
    for _ in range(5):
        port = serial.serial_for_url(path, baudrate=9600, timeout=2)
        for line in ("rts", "dtr"):
            try:
                setattr(port, line, True)
                setattr(port, line, False)
            except OSError:
                pass  # a pty rejects modem ioctls (ENOTTY); the bridge must not care
        port.write(b"Q@n")
        assert port.read(3)[:1] == b"Q"
        port.close()
    with da.open_stimulator(path, "magstim-200") as stim:
        stim.set_intensity(40)
        assert stim.read_parameters().intensity_a == 40


def test_tcp_bridge_serves_socket_urls(spawn: Spawn) -> None:
    _, url = spawn("--model", "magventure-r30", "--tcp", "0")
    assert url.startswith("socket://127.0.0.1:")
    for _ in range(2):  # one client after another
        with da.open_stimulator(url, "magventure-r30") as stim:
            assert stim.identify().serial_number == "012345"


def test_faults_from_the_command_line_and_stdin(spawn: Spawn) -> None:
    proc, path = spawn("--model", "magstim-rapid2", "--pty", "--faults", "drop_reply@cmd=E")
    with da.open_stimulator(path, "magstim-rapid2", reply_timeout_s=0.3) as stim:
        with pytest.raises(da.DeviceTimeout):
            stim.arm()
        assert proc.stdin is not None
        proc.stdin.write("fault coil_absent\n")
        proc.stdin.flush()
        with pytest.raises(da.CoilFault):
            for _ in range(50):
                stim.status()


def test_record_mode_with_the_panel_scripted_over_stdin(spawn: Spawn) -> None:
    # 10x: the recording's 120 s limit is 12 s of real time (at 50x it was 2.4 s, which a loaded machine overran once
    # with the third train under way); the protocol itself takes 1 s.
    speed = 10.0
    proc, path = spawn("--model", "magventure-x100", "--pty", "--speed", str(speed))
    with da.open_stimulator(
        path, "magventure-x100", clock=da.ScaledClock(speed), reply_timeout_s=0.5 * speed
    ) as stim:
        stim.program(da.TrainProtocol(50, 10, 20, 3, 2))
        assert proc.stdin is not None
        proc.stdin.write("panel start\n")
        proc.stdin.flush()
        report = stim.record(timeout_s=120)
    assert report.delivered_pulses == 60 and report.completed


def test_unplug_is_a_disconnect(spawn: Spawn) -> None:
    _, path = spawn("--model", "magventure-x100", "--pty", "--speed", "50", "--faults", "unplug@pulse=100")
    with (
        da.open_stimulator(path, "magventure-x100", clock=da.ScaledClock(50), reply_timeout_s=25) as stim,
        pytest.raises(da.Disconnected),
    ):
        stim.run_protocol(da.TrainProtocol(50, 10, 50, 10, 1))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_the_simulator_cleanly(spawn: Spawn, signum: int) -> None:
    proc, path = spawn("--model", "magstim-200", "--pty")
    port = serial.serial_for_url(path, timeout=2)
    port.write(mc.build("J", b"@"))
    assert port.read(12)[:1] == b"J"
    port.close()
    proc.send_signal(signum)
    assert proc.wait(timeout=10) == 0


def test_cli_refuses_missing_bridge(spawn: Spawn) -> None:
    proc, _ = spawn("--model", "magstim-200")
    assert proc.wait(timeout=10) != 0
