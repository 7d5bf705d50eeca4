"""Fault plans as data: ``name[=value][@trigger]``, several joined by ``,`` or ``;``.

Reply faults (act on one reply): ``drop_reply[=N]`` (the next N matching replies), ``bad_checksum``,
``answer=?|data|S`` (Magstim error replies), ``nul=N`` (stray NULs first), ``delay=1.5s``.
Command faults: ``drop_command[=N]``: the next N matching commands are lost on the line (the unit never
sees them: no reply, no state change, and its keep-alive watchdog is not fed).
Device faults (change the device): ``stall=2.5s``, ``lose_remote``, ``coil_overtemp``,
``coil_absent``, ``replace_coil``, ``fatal_error``, ``error``, ``lift_coil``, ``unplug``, ``hang``.
Triggers: ``cmd=X`` (Magstim command char, or MagVenture ID like ``cmd=2``), ``reply=N`` (the Nth
reply), ``pulse=N``, ``t=S`` (seconds after start), or ``arm``/``fire``/``disarm``. Without a
trigger, reply faults hit the next reply and device faults apply at once. Each fault fires once
(``drop_reply=N`` and ``drop_command=N`` N times).

Examples: ``drop_reply@cmd=E``, ``bad_checksum@reply=3``, ``coil_overtemp@pulse=1200``,
``unplug@pulse=600``, ``stall=2.5s@arm``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

REPLY_FAULTS = {"drop_reply", "bad_checksum", "answer", "nul", "delay"}
COMMAND_FAULTS = {"drop_command"}
COUNTED = {"drop_reply", "drop_command"}  # the value is how many matching frames it hits
DEVICE_FAULTS = {
    "stall", "lose_remote", "coil_overtemp", "coil_absent", "replace_coil", "fatal_error", "error",
    "lift_coil", "unplug", "hang",
}
EVENT_TRIGGERS = {"arm", "fire", "disarm"}


class FaultSpecError(ValueError):
    """A fault spec that does not parse."""


@dataclass
class Fault:
    """One planned fault."""

    name: str
    value: str | None = None
    trigger: str | None = None  # "cmd", "reply", "pulse", "t", "event" or None
    at: str | None = None
    fired: bool = False
    remaining: int = 1

    @property
    def seconds(self) -> float:
        """The value as seconds (``2.5s`` or ``2.5``)."""
        return float((self.value or "0").rstrip("s"))

    def __str__(self) -> str:
        text = self.name + (f"={self.value}" if self.value is not None else "")
        if self.trigger == "event":
            return f"{text}@{self.at}"
        return text + (f"@{self.trigger}={self.at}" if self.trigger else "")


def parse_fault(text: str) -> Fault:
    """Parse one ``name[=value][@trigger]``."""
    head, _, trigger = text.strip().partition("@")
    name, eq, value = head.partition("=")
    name = name.strip()
    if name not in REPLY_FAULTS | DEVICE_FAULTS | COMMAND_FAULTS:
        raise FaultSpecError(f"unknown fault {name!r} in {text!r}")
    fault = Fault(name, value.strip() if eq else None)
    if trigger:
        if trigger in EVENT_TRIGGERS:
            fault.trigger, fault.at = "event", trigger
        else:
            kind, eq, at = trigger.partition("=")
            if kind not in {"cmd", "reply", "pulse", "t"} or not eq or not at:
                raise FaultSpecError(f"unknown trigger {trigger!r} in {text!r}")
            if kind in {"reply", "pulse"} and not at.isdigit():
                raise FaultSpecError(f"{kind} trigger needs a number in {text!r}")
            fault.trigger, fault.at = kind, at
    if name in COUNTED and fault.value is not None:
        if not fault.value.isdigit() or int(fault.value) < 1:
            raise FaultSpecError(f"{name} takes a count of frames, e.g. {name}=3, in {text!r}")
        fault.remaining = int(fault.value)
    if name in {"stall", "delay"}:
        try:
            fault.seconds  # noqa: B018 - validate now, not when it fires
        except ValueError as exc:
            raise FaultSpecError(f"{name} needs seconds, e.g. {name}=2.5s") from exc
    return fault


def parse_faults(spec: str | None) -> list[Fault]:
    """Parse a whole spec (``,`` or ``;`` separated; empty → no faults)."""
    if not spec:
        return []
    parts = [p for chunk in spec.split(";") for p in chunk.split(",")]
    return [parse_fault(p) for p in parts if p.strip()]


class FaultPlan:
    """The faults a device will inject; add more at run time with ``add``."""

    def __init__(self, spec: str | None = None) -> None:
        self._lock = threading.Lock()
        self.faults: list[Fault] = parse_faults(spec)

    def add(self, spec: str) -> None:
        """Plan more faults (thread-safe)."""
        new = parse_faults(spec)
        with self._lock:
            self.faults.extend(new)

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self.faults.clear()

    def take(self, trigger: str | None, at: str | None, kinds: set[str]) -> list[Fault]:
        """Faults of ``kinds`` whose trigger matches (marked fired); ``trigger=None`` takes untriggered ones."""
        with self._lock:
            hits = [f for f in self.faults if not f.fired and f.name in kinds and f.trigger == trigger
                    and (trigger is None or f.at == at)]
            for fault in hits:
                fault.remaining -= 1
                fault.fired = fault.name not in COUNTED or fault.remaining <= 0
        return hits

    def take_timed(self, elapsed: float) -> list[Fault]:
        """Device faults with ``t=S`` triggers that are due."""
        with self._lock:
            hits = [f for f in self.faults if not f.fired and f.trigger == "t" and float(f.at or 0) <= elapsed]
            for fault in hits:
                fault.fired = True
        return hits

    def pending(self) -> list[Fault]:
        """Faults not fired yet."""
        with self._lock:
            return [f for f in self.faults if not f.fired]
