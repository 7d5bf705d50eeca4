"""The serial port: opened only through ``serial.serial_for_url``, so device paths, ``socket://`` and
the simulator's ``sim://`` URLs all take the same path. Keeps the last frames for error reports."""

from __future__ import annotations

import contextlib
import threading
from collections import deque

import serial

from config.device_profiles import SerialSettings
from device_adapters.clock import Clock
from device_adapters.errors import Disconnected, FrameRecord

WRITE_TIMEOUT_S = 0.3  # MagPy/MAGIC write timeout (docs/device-protocols.md §1.1)
# A blocking read returns as soon as a byte arrives; the slice only bounds how long one read call may
# block, so a waiter sees its deadline within this much. Fixed, so the port is never reconfigured per read.
READ_SLICE_S = 0.02
TRANSCRIPT_LENGTH = 16


class Transport:
    """A byte pipe to the device (non-blocking and blocking-with-deadline reads) plus a transcript of frames."""

    def __init__(self, url: str, settings: SerialSettings, clock: Clock) -> None:
        self.url = url
        self._clock = clock
        self._recent: deque[FrameRecord] = deque(maxlen=TRANSCRIPT_LENGTH)
        self._lock = threading.Lock()
        try:
            self._port = serial.serial_for_url(
                url,
                baudrate=settings.baudrate,
                bytesize=settings.bytesize,
                parity=settings.parity,
                stopbits=settings.stopbits,
                timeout=READ_SLICE_S,
                write_timeout=WRITE_TIMEOUT_S,
            )
        except (serial.SerialException, OSError) as exc:
            raise Disconnected(f"cannot open {url}: {exc}") from exc
        self._closed = False

    @property
    def is_open(self) -> bool:
        """Whether the port is still usable."""
        return not self._closed

    def write(self, data: bytes) -> None:
        """Send one frame."""
        self._ensure_open()
        self._note("tx", data)
        try:
            # pyserial's write returns once the bytes are in the port's buffer; no tcdrain after it, since the
            # reply cannot come before the bytes are on the wire anyway.
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            self._mark_dead()
            raise Disconnected(f"write to {self.url} failed: {exc}", self.recent()) from exc

    def read_available(self) -> bytes:
        """Whatever bytes have arrived (never blocks)."""
        self._ensure_open()
        try:
            waiting = self._port.in_waiting
            return bytes(self._port.read(waiting)) if waiting else b""
        except (serial.SerialException, OSError, TypeError) as exc:
            # pyserial's posix port raises TypeError once the fd is gone under it.
            self._mark_dead()
            raise Disconnected(f"read from {self.url} failed: {exc}", self.recent()) from exc

    def read_until(self, deadline: float, want: int = 1) -> bytes:
        """Block until ``want`` bytes have arrived (or some, when a read slice ends) or the clock reaches
        ``deadline`` (then b"").

        Woken by the bytes themselves, not by polling; a caller that knows how much of a frame is still to
        come passes it as ``want`` and is woken once for the lot rather than once per byte.
        """
        while True:
            data = self.read_available()
            if len(data) >= want or self._clock.monotonic() >= deadline:
                return data
            try:
                data += bytes(self._port.read(want - len(data)))
            except (serial.SerialException, OSError, TypeError) as exc:
                self._mark_dead()
                raise Disconnected(f"read from {self.url} failed: {exc}", self.recent()) from exc
            if data:
                return data + self.read_available()  # what landed with it: one wake-up per burst

    def discard_input(self) -> bytes:
        """Drop unread input (stale replies); return what was dropped so the caller can log it."""
        dropped = self.read_available()
        if dropped:
            self._note("rx", dropped, "stale: discarded")
        return dropped

    def note_rx(self, frame: bytes, note: str = "") -> None:
        """Record a received frame in the transcript (``note`` e.g. why it was not taken as a reply)."""
        self._note("rx", frame, note)

    def recent(self) -> tuple[FrameRecord, ...]:
        """The last frames exchanged, oldest first."""
        with self._lock:
            return tuple(self._recent)

    def close(self) -> None:
        """Close the port (idempotent)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(serial.SerialException, OSError):
            self._port.close()

    def _note(self, direction: str, data: bytes, note: str = "") -> None:
        with self._lock:
            self._recent.append(FrameRecord(direction, bytes(data), self._clock.monotonic(), note))

    def _mark_dead(self) -> None:
        self.close()

    def _ensure_open(self) -> None:
        if self._closed:
            raise Disconnected(f"{self.url} is closed", self.recent())
