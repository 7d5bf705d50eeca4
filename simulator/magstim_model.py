"""Simulated Magstim 200², BiStim² and Rapid²: state, timers, pulses, coil heat, faults, panel.

Behaviour from docs/device-protocols.md §1.8–1.9: remote control lost after 10 s idle in standby or 1 s armed
(and the unit disarms); arm → ready after a delay (< 1 s); 60 s armed without firing disarms;
recharge after each pulse; one train per trigger then a post-train wait (≥ 0.5 s, energy formula);
coil above 40 °C disarms and cannot be armed; reply status bytes show the state before the command.
"""

from __future__ import annotations

import math
from typing import Any

from config.device_profiles import DeviceProfile
from simulator import magstim_codec as mc
from simulator import magstim_commands
from simulator.clock import SimClock
from simulator.device import SimDevice
from simulator.faults import FaultPlan

AMBIENT_C = 22.0
HEAT_PER_PULSE_C = 0.01  # at 100 % output, scaled by power²; our model, not a published figure
COOLING_TAU_S = 900.0


class PanelLocked(RuntimeError):
    """The front panel is locked while a host holds remote control."""


class MagstimDevice(SimDevice):
    """One simulated Magstim unit."""

    def __init__(self, profile: DeviceProfile, clock: SimClock, faults: FaultPlan | None = None,
                 firmware: tuple[int, ...] | None = None, unlock_code: str | None = None,
                 **options: Any) -> None:
        super().__init__(profile, clock, faults)
        self.kind = "rapid" if profile.rapid else "bistim" if profile.bistim else "single"
        self.firmware = firmware or ((8, 0, 0) if self.kind == "rapid" else (1, 0, 0))
        self.major: int = self.firmware[0] if self.kind == "rapid" else 0
        if self.kind == "rapid" and self.major >= 9 and not unlock_code:
            raise ValueError("a Rapid² from firmware V9 needs the unlock code it will accept (made-up in tests)")
        self.unlock_code = unlock_code
        self.no_reply_without_remote = bool(options.get("no_reply_without_remote", False))
        self.arm_delay_s = float(options.get("arm_delay_s", 0.6))
        self.supply = str(options.get("supply", "240"))
        self.system = str(options.get("system", "rapid"))
        keep = profile.keepalive
        self.armed_timeout_s = float(options.get("armed_timeout_s", keep.armed_timeout_s if keep else math.inf))
        self.standby_timeout_s = float(options.get("standby_timeout_s", keep.standby_timeout_s if keep else math.inf))
        self.splitter = mc.CommandSplitter(self.major)
        now = clock.monotonic()
        self.remote = False
        self.state = "standby"
        self.ready_at = math.inf
        self.armed_since = now
        self.last_command = now
        self.power = [30, 30]
        self.interval = 10
        self.high_resolution: bool = False
        self.coil_present, self.replace_coil, self.error, self.fatal = True, False, False, False
        self.interlock_open = False
        self.ignore_interlock = False
        self.temps = [AMBIENT_C, AMBIENT_C]
        self._cooled_at = now
        self.freq_tenths, self.n_pulses, self.duration_tenths, self.enhanced = 10, 1, 0, False
        self.charge_delay: int = 0
        self.train: dict[str, float] | None = None
        self.wait_until = -math.inf
        self.energy_log: list[tuple[float, float]] = []
        self.panel_trains_left = 0
        self.panel_iti = 0.0
        self.panel_next_at = math.inf
        self.trains_delivered = 0

    # ----- frames ---------------------------------------------------------------------------------

    def _split(self, data: bytes) -> list[bytes]:
        return self.splitter.feed(data)

    def _command_key(self, frame: bytes) -> str | None:
        return chr(frame[0]) if frame else None

    def _event_for(self, frame: bytes) -> str | None:
        return magstim_commands.event_for(frame)

    def _handle(self, frame: bytes) -> list[bytes]:
        return magstim_commands.handle(self, frame)

    def reply(self, command: str, *body: int | bytes) -> list[bytes]:
        """One reply frame: status byte first (the state before the command), then ``body``."""
        raw = bytearray([self.status_byte()])
        for part in body:
            raw.extend(bytes([part]) if isinstance(part, int) else part)
        return [mc.build(command, bytes(raw))]

    def busy(self) -> bool:
        """A train or its post-train wait is running: parameter changes are refused."""
        return self.train is not None or self.clock.monotonic() < self.wait_until

    # ----- status bytes ---------------------------------------------------------------------------

    def status_byte(self) -> int:
        """Instrument status (docs/device-protocols.md §1.5)."""
        value = {"standby": mc.STANDBY, "armed": mc.ARMED, "ready": mc.READY}[self.state]
        for flag, bit in ((self.coil_present, mc.COIL), (self.replace_coil, mc.REPLACE), (self.error, mc.ERROR),
                          (self.fatal, mc.FATAL), (self.remote, mc.REMOTE)):
            value |= bit if flag else 0
        return value

    def coil_ready(self) -> bool:
        """Coil present and its safety switch closed (or ignored)."""
        return self.coil_present and (self.ignore_interlock or not self.interlock_open)

    def rapid_byte(self) -> int:
        """Rapid status (docs/device-protocols.md §1.5)."""
        now = self.clock.monotonic()
        value = mc.HV_PSU
        for flag, bit in ((self.enhanced, mc.ENHANCED), (self.train is not None, mc.TRAIN),
                          (now < self.wait_until, mc.WAIT), (self.duration_tenths == 0, mc.SINGLE),
                          (self.coil_ready(), mc.COIL_READY)):
            value |= bit if flag else 0
        return value

    # ----- time -----------------------------------------------------------------------------------

    def _tick(self, now: float) -> None:
        deadline = self._keepalive_deadline()
        self._run_train(min(now, deadline))
        if now > deadline:
            self.remote = False
            self.disarm()
        self._run_train(now)
        self._cool(now)
        if self.state == "armed" and self.train is None and now >= max(self.ready_at, self.wait_until):
            self.state = "ready"
        if self.state != "standby" and self.train is None and now - self.armed_since > self.profile.auto_disarm_s:
            self.disarm()
        self._run_panel(now)

    def _keepalive_deadline(self) -> float:
        if not self.remote:
            return math.inf
        limit = self.standby_timeout_s if self.state == "standby" else self.armed_timeout_s
        return self.last_command + limit

    def _cool(self, now: float) -> None:
        factor = math.exp(-(now - self._cooled_at) / COOLING_TAU_S)
        self.temps = [AMBIENT_C + (t - AMBIENT_C) * factor for t in self.temps]
        self._cooled_at = now

    # ----- stimulation ----------------------------------------------------------------------------

    def arm(self) -> bool:
        """Arm if allowed; ready follows after the arm delay."""
        if self.state != "standby" or not self.coil_ready() or self.fatal or self.too_hot():
            return False
        now = self.clock.monotonic()
        self.state, self.armed_since, self.ready_at = "armed", now, now + self.arm_delay_s
        return True

    def disarm(self) -> None:
        """Back to standby; any train stops."""
        self.state = "standby"
        self.train = None
        self.ready_at = math.inf
        self.panel_trains_left = 0

    def too_hot(self) -> bool:
        """At or above the coil cut-off."""
        return max(self.temps) >= self.profile.coil_cutoff_c

    def _pulse(self, at: float) -> None:
        self._cool(at)
        rise = HEAT_PER_PULSE_C * (self.power[0] / 100) ** 2
        self.temps = [self.temps[0] + rise, self.temps[1] + rise * 0.9]
        self.armed_since = at
        self.pulse_delivered()
        if self.too_hot():
            self.disarm()

    def fire(self) -> bool:
        """Trigger: a single pulse, or start a train in train mode; False if refused."""
        now = self.clock.monotonic()
        if self.state != "ready" or not self.coil_ready():
            return False
        if self.kind == "rapid" and self.duration_tenths > 0:
            return self._start_train(now)
        self._pulse(now)
        if self.state != "standby":
            self.state, self.ready_at = "armed", now + self.profile.recharge_time_s(self.power[0])
        return True

    def _start_train(self, now: float) -> bool:
        rapid = self.profile.rapid
        assert rapid is not None
        freq = self.freq_tenths / 10
        if freq > rapid.max_frequency(self.power[0], self.supply, self.system):
            return False
        on_time = self.n_pulses / freq
        if min(on_time, 60.0) > rapid.max_on_time_s(self.power[0], freq):
            return False
        energy = rapid.energy_j(self.power[0]) * self.n_pulses
        recent = sum(e for t, e in self.energy_log if t > now - 60.0)
        if recent + energy > rapid.duty_limit_j_per_min and on_time < 60.0:
            return False
        self.energy_log = [(t, e) for t, e in self.energy_log if t > now - 60.0] + [(now, energy)]
        self.train = {"start": now, "count": self.n_pulses, "period": 1 / freq, "k": 0}
        self.state = "armed"
        return True

    def _run_train(self, until: float) -> None:
        while self.train is not None:
            train = self.train
            at = train["start"] + train["k"] * train["period"]
            if train["k"] >= train["count"]:
                end = train["start"] + train["count"] * train["period"]
                if end > until:
                    return
                self._end_train(end)
                return
            if at > until:
                return
            train["k"] += 1
            self._pulse(at)

    def _end_train(self, end: float) -> None:
        rapid = self.profile.rapid
        assert rapid is not None
        self.train = None
        self.trains_delivered += 1
        wait = rapid.min_wait_between_trains_s(self.power[0], self.freq_tenths / 10, self.n_pulses)
        self.wait_until = end + wait
        self.ready_at = self.wait_until
        self.armed_since = end
        if self.panel_trains_left:
            self.panel_trains_left -= 1
            self.panel_next_at = end + max(self.panel_iti, wait)

    def _run_panel(self, now: float) -> None:
        if self.panel_trains_left and self.state == "ready" and self.train is None and now >= self.panel_next_at:
            self._start_train(now)

    # ----- faults and front panel -----------------------------------------------------------------

    def _apply_fault(self, name: str) -> None:
        if name == "lose_remote":
            self.remote = False
            self.disarm()
        elif name == "coil_overtemp":
            self.temps = [self.profile.coil_cutoff_c + 1.0, self.profile.coil_cutoff_c + 0.5]
            self.disarm()
        elif name == "coil_absent":
            self.coil_present = False
            self.disarm()
        elif name == "replace_coil":
            self.replace_coil = True
        elif name in ("fatal_error", "error"):
            self.error, self.fatal = True, name == "fatal_error"
            if self.fatal:
                self.disarm()
        elif name == "lift_coil":
            self.interlock_open = True
            if not self.ignore_interlock:
                self.disarm()

    def panel(self, action: str, **kwargs: Any) -> None:
        """Act at the unit: start, stop, fire, arm, power, lift_coil, place_coil."""
        with self.lock:
            self.advance()
            if action in ("start", "fire", "arm", "power") and self.remote:
                raise PanelLocked("the panel is locked while a host holds remote control")
            if action == "start":
                if self.kind != "rapid":
                    raise ValueError(f"{self.profile.display_name} has no train protocol to start")
                self.panel_trains_left = int(kwargs.get("trains", 1))
                self.panel_iti = float(kwargs.get("inter_train_interval_s", 0.0))
                self.panel_next_at = self.clock.monotonic()
                if self.state == "standby":
                    self.arm()
            elif action == "stop":
                self.disarm()
            elif action == "fire":
                self.fire()
            elif action == "arm":
                self.arm()
            elif action == "power":
                self.power[0] = int(kwargs["percent"])
            elif action == "lift_coil":
                self._apply_fault("lift_coil")
            elif action == "place_coil":
                self.interlock_open = False
            else:
                raise ValueError(f"unknown panel action {action!r}")

    def _corrupt(self, frame: bytes) -> bytes:
        return frame[:-1] + bytes([frame[-1] ^ 0x5A]) if len(frame) > 1 else frame

    def _error_reply(self, frame: bytes, kind: str) -> bytes:
        command = chr(frame[0]) if frame and frame != b"?" else None
        return mc.error(command, {"?": "?", "data": "data", "S": "state", "state": "state"}.get(kind, "?"))
