"""Command round-trip latency through the simulator's pty bridge in ``--realtime`` mode.

Run: ``.venv/bin/python -m bench.device [--runs N]``. For each command, a raw client writes the frame
to the pty and reads the whole reply; then the drivers' own calls (``status()``, ``set_intensity()``,
``disarm()``, ``read_parameters()``) run against the same pty, their wire bytes taken from the driver's
own transcript. The table shows the measured time beside the time the same bytes need on the wire at
the device's baud rate (10 bits per byte: start, 8 data, stop), and their ratio. A ratio near 1 means
the bridge and the driver add little beyond the line rate. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

import device_adapters as da
from config.device_profiles import load_profile


def _magstim(text: str) -> bytes:
    body = text.encode("latin-1")
    return body + bytes([~sum(body) & 0xFF])


def _magventure(payload: bytes) -> bytes:
    crc = 0
    for byte in payload:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return bytes([0xFE, len(payload)]) + payload + bytes([crc, 0xFF])


@dataclass(frozen=True)
class Probe:
    """One command and the length of its reply."""

    name: str
    frame: bytes
    reply_bytes: int


PROBES = {
    "magstim-rapid2": [
        Probe("Q@ enable remote", _magstim("Q@"), 3),
        Probe("F@ coil temperature", _magstim("F@"), 9),
        Probe("\\@ parameters (V8)", _magstim("\\@"), 22),
        Probe("@050 set power", _magstim("@050"), 3),
    ],
    "magventure-x100": [
        Probe("0x00 get status", _magventure(b"\x00"), 13),
        Probe("0x01 amplitude 50", _magventure(b"\x01\x32\x00"), 8),
        Probe("0x0B get timing", _magventure(b"\x0b\x00"), 18),
    ],
}


def _round_trip(port: serial.Serial, probe: Probe) -> float:
    port.reset_input_buffer()
    start = time.perf_counter()
    port.write(probe.frame)
    got = b""
    while len(got) < probe.reply_bytes:
        chunk = port.read(probe.reply_bytes - len(got))
        if not chunk:
            raise RuntimeError(f"no reply to {probe.name}")
        got += chunk
    return time.perf_counter() - start


Row = tuple[str, float, float, float, float]
DRIVER_CALLS: dict[str, list[tuple[str, Callable[[da.Stimulator], object]]]] = {
    "magstim-rapid2": [
        ("driver status()", lambda s: s.status()),
        ("driver set_intensity(50)", lambda s: s.set_intensity(50)),
        ("driver disarm()", lambda s: s.disarm()),
    ],
    "magventure-x100": [
        ("driver status()", lambda s: s.status()),
        ("driver set_intensity(50)", lambda s: s.set_intensity(50)),
        ("driver read_parameters()", lambda s: s.read_parameters()),
    ],
}


def _row(name: str, wire_s: float, samples: list[float]) -> Row:
    samples = sorted(samples)
    median = statistics.median(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return (name, wire_s * 1000, median * 1000, p95 * 1000, median / wire_s)


def _bench_driver(path: str, model: str, baud: int, runs: int) -> list[Row]:
    """Time the driver's own calls; wire time from the bytes its transcript shows for each call."""
    rows = []
    clock = da.SystemClock()
    with da.open_stimulator(path, model, clock=clock) as stim:
        for name, call in DRIVER_CALLS[model]:
            samples, wire = [], []
            for _ in range(runs):
                start = clock.monotonic()
                began = time.perf_counter()
                call(stim)
                samples.append(time.perf_counter() - began)
                frames = [f for f in stim.recent_frames() if f.at >= start]
                wire.append(sum(len(f.data) for f in frames) * 10 / baud)
            rows.append(_row(f"{model} {name}", statistics.median(wire), samples))
    return rows


def bench_model(model: str, runs: int) -> list[Row]:
    """Rows of (command, wire ms, median ms, p95 ms, ratio) for one model."""
    baud = load_profile(model).serial.baudrate
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--model", model, "--pty", "--realtime"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()
        rows = []
        with serial.serial_for_url(path, baudrate=baud, timeout=2) as port:
            if model.startswith("magstim"):
                _round_trip(port, PROBES[model][0])  # take remote control so set commands are accepted
            for probe in PROBES[model]:
                samples = [_round_trip(port, probe) for _ in range(runs)]
                wire = (len(probe.frame) + probe.reply_bytes) * 10 / baud
                rows.append(_row(f"{model} {probe.name}", wire, samples))
        return rows + _bench_driver(path, model, baud, runs)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    """Print the latency table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"{'command':48} {'wire ms':>8} {'median ms':>10} {'p95 ms':>8} {'ratio':>6}")
    for model in PROBES:
        for name, wire, median, p95, ratio in bench_model(model, args.runs):
            print(f"{name:48} {wire:8.2f} {median:10.2f} {p95:8.2f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
