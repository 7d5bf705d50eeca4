"""Transport-free device core shared by the simulated families.

Bytes in (``host_write``) → the family's own splitter → command handling → replies scheduled at a
time; bytes out (``host_read``) are whatever is due by the clock. Faults from the plan are applied
here (reply faults) or handed to the family (device faults). Every frame goes into the transcript.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from abc import ABC, abstractmethod

from config.device_profiles import DeviceProfile
from simulator.clock import SimClock
from simulator.faults import COMMAND_FAULTS, DEVICE_FAULTS, REPLY_FAULTS, Fault, FaultPlan
from simulator.transcript import Transcript


class Unplugged(OSError):
    """The simulated cable was pulled."""


class SimDevice(ABC):
    """One simulated stimulator: thread-safe, driven by whichever clock it was given."""

    def __init__(self, profile: DeviceProfile, clock: SimClock, faults: FaultPlan | None = None) -> None:
        self.profile = profile
        self.clock = clock
        self.faults = faults or FaultPlan()
        self.transcript = Transcript()
        self.lock = threading.RLock()
        self.started = clock.monotonic()
        self.unplugged = False
        self.hung = False
        self.stall_until = -math.inf
        self.replies_sent = 0
        self.pulses = 0
        self._out: list[tuple[float, int, bytes]] = []
        self._order = itertools.count()
        self._deferred: list[bytes] = []
        self._line_free_at = -math.inf

    # ----- host side --------------------------------------------------------------------------

    def host_write(self, data: bytes) -> None:
        """Bytes arriving from the host."""
        with self.lock:
            self.advance()
            if self.unplugged:
                raise Unplugged("simulated device unplugged")
            if self.hung:
                self.transcript.add(self.clock.monotonic(), "in", data, "ignored: hung")
                return
            for frame in self._split(data):
                self._receive(frame)

    def host_read(self, max_bytes: int = 1 << 16) -> bytes:
        """Bytes due for the host by now."""
        with self.lock:
            self.advance()
            if self.unplugged:
                raise Unplugged("simulated device unplugged")
            now = self.clock.monotonic()
            chunks = bytearray()
            while self._out and self._out[0][0] <= now and len(chunks) < max_bytes:
                chunks.extend(heapq.heappop(self._out)[2])
            return bytes(chunks)

    def plug_in(self) -> None:
        """The cable is back: the host can talk to the unit again (whatever it did meanwhile, it did)."""
        with self.lock:
            self.unplugged = False
            self.transcript.add(self.clock.monotonic(), "fault", b"plug_in", "plugged back in")

    def next_output_at(self) -> float | None:
        """When the next queued byte becomes due (``None`` if nothing is queued)."""
        with self.lock:
            return self._out[0][0] if self._out else None

    def available(self) -> int:
        """Bytes due now."""
        with self.lock:
            self.advance()
            now = self.clock.monotonic()
            return sum(len(d) for t, _, d in self._out if t <= now)

    def discard_output(self) -> None:
        """Drop queued output (the host flushed its input buffer)."""
        with self.lock:
            now = self.clock.monotonic()
            self._out = [item for item in self._out if item[0] > now]
            heapq.heapify(self._out)

    def advance(self) -> None:
        """Bring the device up to the clock: timed faults, timers, pulses, stalled commands."""
        with self.lock:
            now = self.clock.monotonic()
            for fault in self.faults.take_timed(now - self.started) + self.faults.take(None, None, DEVICE_FAULTS):
                self.apply_fault(fault)
            self._tick(now)
            if self._deferred and now >= self.stall_until:
                frames, self._deferred = self._deferred, []
                for frame in frames:
                    self._process(frame)

    # ----- frames -----------------------------------------------------------------------------

    def _receive(self, frame: bytes) -> None:
        now = self.clock.monotonic()
        key, event = self._command_key(frame), self._event_for(frame)
        lost = self._triggered(key, event, COMMAND_FAULTS) + self.faults.take(None, None, COMMAND_FAULTS)
        if lost:
            self.transcript.add(now, "in", frame, f"lost on the line: {lost[0]}")
            return
        self.transcript.add(now, "in", frame)
        for fault in self._triggered(key, event, DEVICE_FAULTS):
            self.apply_fault(fault)
        if self.hung or self.unplugged:
            return
        if now < self.stall_until or self._deferred:
            self._deferred.append(frame)
            return
        self._process(frame)

    def _process(self, frame: bytes) -> None:
        key, event = self._command_key(frame), self._event_for(frame)
        faults = self._triggered(key, event, REPLY_FAULTS)
        for index, reply in enumerate(self._handle(frame)):
            self.send(reply, faults if index == 0 else [])

    def _triggered(self, key: str | None, event: str | None, kinds: set[str]) -> list[Fault]:
        found = self.faults.take("cmd", key, kinds) if key is not None else []
        if event is not None:
            found += self.faults.take("event", event, kinds)
        return found

    def send(self, frame: bytes, faults: list[Fault] | None = None, at: float | None = None) -> None:
        """Queue one outgoing frame, applying reply faults (given, ``reply=N`` or untriggered)."""
        if self.hung:
            self.transcript.add(self.clock.monotonic(), "out", frame, "suppressed: hung")
            return
        self.replies_sent += 1
        faults = list(faults or [])
        faults += self.faults.take("reply", str(self.replies_sent), REPLY_FAULTS)
        faults += self.faults.take(None, None, REPLY_FAULTS)
        when = self.clock.monotonic() if at is None else at
        notes: list[str] = []
        for fault in faults:
            notes.append(str(fault))
            if fault.name == "drop_reply":
                self.transcript.add(when, "out", frame, "dropped")
                return
            if fault.name == "bad_checksum":
                frame = self._corrupt(frame)
            elif fault.name == "answer":
                frame = self._error_reply(frame, fault.value or "?")
            elif fault.name == "nul":
                frame = b"\x00" * int(fault.value or 3) + frame
            elif fault.name == "delay":
                when += fault.seconds
        if at is None:  # one serial line: a reply never overtakes an earlier, delayed one
            when = self._line_free_at = max(when, self._line_free_at)
        self.transcript.add(when, "out", frame, ", ".join(notes))
        heapq.heappush(self._out, (when, next(self._order), frame))

    def pulse_delivered(self) -> None:
        """Count a pulse and fire any ``@pulse=N`` faults."""
        self.pulses += 1
        for fault in self.faults.take("pulse", str(self.pulses), DEVICE_FAULTS):
            self.apply_fault(fault)

    def apply_fault(self, fault: Fault) -> None:
        """Apply a device fault now."""
        with self.lock:
            self.transcript.add(self.clock.monotonic(), "fault", str(fault).encode(), str(fault))
            if fault.name == "stall":
                self.stall_until = self.clock.monotonic() + fault.seconds
            elif fault.name == "unplug":
                self.unplugged = True
            elif fault.name == "hang":
                self.hung = True
            else:
                self._apply_fault(fault.name)

    # ----- family hooks -----------------------------------------------------------------------

    @abstractmethod
    def _split(self, data: bytes) -> list[bytes]:
        """Cut host bytes into command frames (junk comes out as frames too)."""

    @abstractmethod
    def _command_key(self, frame: bytes) -> str | None:
        """The ``cmd=`` trigger key of a frame."""

    @abstractmethod
    def _event_for(self, frame: bytes) -> str | None:
        """``arm``/``fire``/``disarm`` if the frame is one."""

    @abstractmethod
    def _handle(self, frame: bytes) -> list[bytes]:
        """Act on one command; return the reply frames."""

    @abstractmethod
    def _tick(self, now: float) -> None:
        """Run timers and pulses up to ``now``."""

    @abstractmethod
    def _apply_fault(self, name: str) -> None:
        """Apply a family-specific device fault."""

    @abstractmethod
    def _corrupt(self, frame: bytes) -> bytes:
        """The frame with a wrong checksum."""

    def _error_reply(self, frame: bytes, kind: str) -> bytes:
        """An error reply in place of ``frame`` (families without error replies return it unchanged)."""
        return frame
