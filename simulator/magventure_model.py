"""Simulated MagVenture MagPro R30/X100: commands, pushed messages, train sequences, coil heat, faults.

docs/device-protocols.md §2.3–2.5: no remote-control session; enable before firing; di/dt message after each
pulse; page/train messages on train start and stop; X100 answers enable with status, coil info,
status; the unit can stop answering until restarted (``hang``). The ITI is the pause from the end
of one train to the start of the next; with the burst waveform the rate and count are bursts.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from config.device_profiles import DeviceProfile
from simulator import magventure_codec as vc
from simulator.clock import SimClock
from simulator.device import SimDevice
from simulator.faults import FaultPlan

AMBIENT_C = 22.0
HEAT_PER_PULSE_C = 0.01  # at 100 % output, scaled by amplitude²; our model
COOLING_TAU_S = 900.0
COIL_COOL_B65 = 60
BURST = 3


class MagVentureDevice(SimDevice):
    """One simulated MagPro."""

    def __init__(self, profile: DeviceProfile, clock: SimClock, faults: FaultPlan | None = None,
                 **options: Any) -> None:
        super().__init__(profile, clock, faults)
        caps = profile.magventure
        assert caps is not None
        self.model_code = caps.model_code
        self.serial_number = int(options.get("serial_number", 0x012345))
        self.splitter = vc.HostSplitter()
        self.enabled = False
        self.amplitude = [30, 0]
        self.mode, self.waveform, self.direction = 0, 1, 0
        self.burst_index, self.ipi_index, self.ratio_index = 2, 80, 80
        self.timing = {"control": 0, "rate": 10, "pulses": 10, "trains": 1, "iti": 100, "warning": 0}
        self.delays = (0, 0, 0)
        self.page = 1
        self.seq: dict[str, float] | None = None
        self.temp = AMBIENT_C
        self._reported_temp = round(AMBIENT_C)
        self._cooled_at = clock.monotonic()
        self.coil_type = COIL_COOL_B65
        self.stimulus_count = 0

    # ----- frames ---------------------------------------------------------------------------------

    def _split(self, data: bytes) -> list[bytes]:
        return [payload if ok else b"" for payload, ok in self.splitter.feed(data)]

    def _command_key(self, frame: bytes) -> str | None:
        return str(frame[0]) if frame else None

    def _event_for(self, frame: bytes) -> str | None:
        if frame[:1] == b"\x02" and len(frame) == 2:
            return "arm" if frame[1] else "disarm"
        return "fire" if frame[:1] in (b"\x03", b"\x04") else None

    def ms(self) -> int:
        """The mode/status byte now."""
        return vc.mode_status(self.model_code, self.mode, self.waveform, self.enabled)

    def msg(self, message_id: int, *body: int | bytes) -> bytes:
        """A message frame."""
        raw = bytearray([message_id])
        for part in body:
            raw.extend(bytes([part]) if isinstance(part, int) else part)
        return vc.wrap(bytes(raw))

    def status_msg(self) -> bytes:
        """Message 0."""
        sn = self.serial_number.to_bytes(3, "big")
        return self.msg(0, self.ms(), sn, round(self.temp), self.coil_type, *self.amplitude)

    def amplitude_msg(self) -> bytes:
        """Message 1."""
        return self.msg(1, *self.amplitude, self.ms())

    def coil_msg(self) -> bytes:
        """Message 3."""
        return self.msg(3, round(self.temp), self.coil_type, self.ms())

    def page_msg(self) -> bytes:
        """Message 8."""
        return self.msg(8, self.page, int(self.seq is not None and self.seq["in_train"] > 0), self.ms())

    def timing_msg(self) -> bytes:
        """Message 11."""
        t = self.timing
        return self.msg(11, 0, t["control"], vc.u16(t["rate"]), vc.u16(t["pulses"]), vc.u16(t["trains"]),
                        vc.u16(t["iti"]), t["warning"], 100, 0)

    def waveform_msg(self) -> bytes:
        """Message 9 (IPI index little-endian, docs/device-protocols.md §2.4)."""
        return self.msg(9, 0, self.model_code, self.mode, self.direction, self.waveform, self.burst_index,
                        self.ipi_index & 0xFF, self.ipi_index >> 8, self.ratio_index)

    def _handle(self, payload: bytes) -> list[bytes]:
        if not payload:
            return []  # malformed frame: ignored (a ``hang`` fault models the units that lock up)
        handler = _HANDLERS.get(payload[0])
        return handler(self, payload[1:]) if handler else []

    # ----- stimulation ----------------------------------------------------------------------------

    def set_enabled(self, on: bool) -> bool:
        """Enable/disable; enabling needs a coil below the cut-off."""
        if on and (self.coil_type == 0 or self.temp >= self.profile.coil_cutoff_c):
            return False
        self.enabled = on
        if not on:
            self.stop()
        return True

    def stop(self) -> None:
        """Stop a running sequence (message 8 if a train was running)."""
        if self.seq is not None:
            running = self.seq["in_train"] > 0
            self.seq = None
            if running:
                self.send(self.page_msg())

    def start(self) -> bool:
        """Start the Timing-page sequence now."""
        if not self.enabled or self.seq is not None:
            return False
        self.seq = {"train": 0, "start": self.clock.monotonic(), "k": 0, "in_train": 0}
        return True

    def _per_stimulus(self) -> tuple[int, float]:
        if self.waveform == BURST:
            return 5 - self.burst_index, vc.ipi_tenths(self.ipi_index) / 10_000
        return 1, 0.0

    def _tick(self, now: float) -> None:
        while self.seq is not None and self._step(now):
            pass
        self._cool(now)

    def _step(self, now: float) -> bool:
        """Do the next due thing of the sequence; False when nothing is due."""
        seq = self.seq
        assert seq is not None
        burst, ipi = self._per_stimulus()
        rate = self.timing["rate"] / 10
        count = self.timing["pulses"] * burst
        if seq["in_train"] == 0:
            if seq["start"] > now:
                return False
            seq["in_train"], seq["k"] = 1, 0
            self.send(self.page_msg(), at=seq["start"])
            return True
        k = int(seq["k"])
        if k < count:
            at = seq["start"] + (k // burst) / rate + (k % burst) * ipi
            if at > now:
                return False
            seq["k"] = k + 1
            self._pulse(at)
            return True
        end = seq["start"] + self.timing["pulses"] / rate
        if end > now:
            return False
        seq["in_train"], seq["train"] = 0, seq["train"] + 1
        self.send(self.page_msg(), at=end)
        if seq["train"] >= self.timing["trains"]:
            self.seq = None
        else:
            seq["start"] = end + self.timing["iti"] / 10
        return True

    def _pulse(self, at: float) -> None:
        self._cool(at)
        self.temp += HEAT_PER_PULSE_C * (self.amplitude[0] / 100) ** 2
        self.stimulus_count += 1
        self.send(self.msg(2, min(255, round(self.amplitude[0] * 1.6)), 0, self.ms()), at=at)
        self.pulse_delivered()
        if round(self.temp) != self._reported_temp:
            self._reported_temp = round(self.temp)
            self.send(self.coil_msg(), at=at)
        if self.temp >= self.profile.coil_cutoff_c and self.enabled:
            self.set_enabled(False)
            self.send(self.amplitude_msg(), at=at)

    def fire_single(self) -> None:
        """One stimulus (a burst with the burst waveform)."""
        if not self.enabled or self.seq is not None:
            return
        now = self.clock.monotonic()
        burst, ipi = self._per_stimulus()
        for index in range(burst):
            self._pulse(now + index * ipi)

    def _cool(self, now: float) -> None:
        if now > self._cooled_at:
            self.temp = AMBIENT_C + (self.temp - AMBIENT_C) * math.exp(-(now - self._cooled_at) / COOLING_TAU_S)
            self._cooled_at = now

    # ----- faults and front panel -----------------------------------------------------------------

    def _apply_fault(self, name: str) -> None:
        if name == "coil_overtemp":
            self.temp = self.profile.coil_cutoff_c + 1.0
            self._reported_temp = round(self.temp)
            self.set_enabled(False)
            self.send(self.coil_msg())
            self.send(self.amplitude_msg())
        elif name == "coil_absent":
            self.coil_type = 0
            self.set_enabled(False)
            self.send(self.coil_msg())
            self.send(self.amplitude_msg())
        elif name in ("lift_coil", "fatal_error"):
            self.set_enabled(False)
            self.send(self.amplitude_msg())
        # lose_remote, replace_coil, error: the MagPro has no such state on the wire

    def restart(self) -> None:
        """Power-cycle: the link answers again, the unit comes back disabled."""
        with self.lock:
            self.hung = False
            self.unplugged = False
            self.splitter = vc.HostSplitter()
            self.set_enabled(False)
            self.transcript.add(self.clock.monotonic(), "fault", b"restart", "restart")

    def panel(self, action: str, **kwargs: Any) -> None:
        """Act at the unit: start, stop, enable, disable, power, timing, lift_coil, restart."""
        with self.lock:
            self.advance()
            if action == "start":
                self.set_enabled(True)
                self.start()
            elif action == "stop":
                self.stop()
            elif action in ("enable", "disable"):
                self.set_enabled(action == "enable")
                self.send(self.amplitude_msg())
            elif action == "power":
                self.amplitude[0] = int(kwargs["percent"])
                self.send(self.amplitude_msg())
            elif action == "timing":
                self.timing.update({k: int(v) for k, v in kwargs.items() if k in self.timing})
                self.send(self.timing_msg())
            elif action == "lift_coil":
                self._apply_fault("lift_coil")
            elif action == "restart":
                self.restart()
            else:
                raise ValueError(f"unknown panel action {action!r}")

    def _corrupt(self, frame: bytes) -> bytes:
        return frame[:-2] + bytes([frame[-2] ^ 0x5A]) + frame[-1:] if len(frame) >= 5 else frame


def _enable(d: MagVentureDevice, data: bytes) -> list[bytes]:
    if len(data) != 1:
        return []
    d.set_enabled(bool(data[0]))
    if d.model_code in (1, 3):  # X100 answers with status, coil info, status (magicpy)
        return [d.status_msg(), d.coil_msg(), d.status_msg()]
    return [d.amplitude_msg()]


def _amplitude(d: MagVentureDevice, data: bytes) -> list[bytes]:
    if not 1 <= len(data) <= 2 or any(v > d.profile.max_output_percent for v in data):
        return []
    d.amplitude[: len(data)] = list(data)
    return [d.amplitude_msg()]


def _timing(d: MagVentureDevice, data: bytes, magic: bool) -> list[bytes]:
    if magic and len(data) == 8:
        rate, pulses, trains, iti = struct.unpack(">HHHH", data)
        d.timing.update(rate=rate, pulses=pulses, trains=trains, iti=iti)
    elif not magic and len(data) == 11 and data[0] == 1:
        rate, pulses, trains, iti = struct.unpack(">HHHH", data[2:10])
        d.timing.update(control=data[1], rate=rate, pulses=pulses, trains=trains, iti=iti, warning=data[10])
    elif magic or data[:1] != b"\x00":
        return []
    return [d.timing_msg()]


def _waveform(d: MagVentureDevice, data: bytes) -> list[bytes]:
    if data[:1] == b"\x01" and len(data) == 10:
        _, model, mode, direction, waveform, burst_index, ipi, ratio = struct.unpack(">BBBBBBHH", data)
        d.mode, d.direction, d.waveform, d.burst_index = mode, direction, waveform, burst_index
        d.ipi_index, d.ratio_index = vc.ipi_index(ipi), max(0, min(255, round((5.0 - ratio / 100) / 0.05)))
    elif data[:1] != b"\x00":
        return []
    return [d.waveform_msg()]


def _delays(d: MagVentureDevice, data: bytes, magic: bool) -> list[bytes]:
    body = data if magic else data[1:]
    if (magic and len(data) == 8) or (not magic and data[:1] == b"\x01" and len(data) == 7):
        d.delays = struct.unpack(">HhH", body[:6])
    elif magic or data[:1] != b"\x00":
        return []
    return [d.msg(10, 0, struct.pack(">HhH", *d.delays))]


def _status2(d: MagVentureDevice, data: bytes) -> list[bytes]:
    sn = d.serial_number.to_bytes(3, "big")
    running = int(d.seq is not None and d.seq["in_train"] > 0)
    return [d.msg(5, d.ms(), sn, round(d.temp), d.coil_type, *d.amplitude, *d.amplitude, 100, 100, d.page, running)]


def _page(d: MagVentureDevice, data: bytes) -> list[bytes]:
    if not data:
        return []
    d.page = data[0]
    return [d.page_msg()]


_HANDLERS = {
    0: lambda d, data: [d.status_msg()],
    1: _amplitude,
    2: _enable,
    3: lambda d, data: (d.fire_single(), [])[1],
    4: lambda d, data: (d.start(), [])[1],
    5: _status2,
    6: lambda d, data: _timing(d, data, magic=True),
    7: _page,
    8: lambda d, data: _delays(d, data, magic=True),
    9: _waveform,
    10: lambda d, data: _delays(d, data, magic=False),
    11: lambda d, data: _timing(d, data, magic=False),
    12: lambda d, data: [d.msg(12, 0, bytes(7), vc.u16(d.stimulus_count), 0, 0, d.page)],
}
