"""Command round-trip latency through the simulator's pty bridge in ``--realtime`` mode.

Run: ``.venv/bin/python -m bench.device [--runs N]``. For each command, a client writes the frame
to the pty and reads the whole reply; the table shows the measured round trip beside the time the
same bytes need on the wire at the device's baud rate (10 bits per byte: start, 8 data, stop), and
their ratio. A ratio near 1 means the bridge adds little beyond the line rate. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import serial

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


def bench_model(model: str, runs: int) -> list[tuple[str, float, float, float, float]]:
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
                samples = sorted(_round_trip(port, probe) for _ in range(runs))
                wire = (len(probe.frame) + probe.reply_bytes) * 10 / baud
                median = statistics.median(samples)
                p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
                rows.append((f"{model} {probe.name}", wire * 1000, median * 1000, p95 * 1000, median / wire))
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    """Print the latency table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"{'command':44} {'wire ms':>8} {'median ms':>10} {'p95 ms':>8} {'ratio':>6}")
    for model in PROBES:
        for name, wire, median, p95, ratio in bench_model(model, args.runs):
            print(f"{name:44} {wire:8.2f} {median:10.2f} {p95:8.2f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
