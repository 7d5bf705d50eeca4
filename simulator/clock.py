"""Clocks for the simulated devices: real time, scaled real time, or virtual time that only moves
when someone sleeps on it (so tests of minutes-long protocols take milliseconds)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

VIRTUAL_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class SimClock(Protocol):
    """What the device model needs of time (the drivers' ``Clock`` has the same shape)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block until ``event`` is set or ``timeout`` seconds pass."""
        ...

    def now(self) -> datetime:
        """Current UTC wall time."""
        ...


class RealClock:
    """Real time."""

    realtime = True

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep``."""
        time.sleep(max(0.0, seconds))

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """``event.wait``."""
        return event.wait(max(0.0, timeout))

    def now(self) -> datetime:
        """UTC now."""
        return datetime.now(UTC)


class ScaledClock(RealClock):
    """Real time running ``speed`` times faster (simulator in another process than the test)."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._origin = time.monotonic()
        self._wall = datetime.now(UTC)

    def monotonic(self) -> float:
        """Scaled seconds since creation."""
        return (time.monotonic() - self._origin) * self.speed

    def sleep(self, seconds: float) -> None:
        """Sleep scaled seconds."""
        time.sleep(max(0.0, seconds) / self.speed)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait scaled seconds."""
        return event.wait(max(0.0, timeout) / self.speed)

    def now(self) -> datetime:
        """Wall time advancing at the scaled rate."""
        return self._wall + timedelta(seconds=self.monotonic())


class VirtualClock:
    """Time that advances only through ``sleep``/``advance``; waiters wake when it passes them."""

    realtime = False

    def __init__(self, start: float = 1000.0, epoch: datetime = VIRTUAL_EPOCH) -> None:
        self._now = start
        self._start = start
        self._epoch = epoch
        self._cond = threading.Condition()

    def monotonic(self) -> float:
        """Virtual seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward and wake anyone waiting on it."""
        with self._cond:
            self._now += max(0.0, seconds)
            self._cond.notify_all()

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` (the sleeper is the one who moves time)."""
        self.advance(seconds)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block (in real time) until ``event`` is set or virtual time passes ``timeout``."""
        deadline = self._now + max(0.0, timeout)
        with self._cond:
            while not event.is_set() and self._now < deadline:
                self._cond.wait(0.02)  # real-time re-check so a set event is seen promptly
        return event.is_set()

    def now(self) -> datetime:
        """Epoch plus elapsed virtual time."""
        return self._epoch + timedelta(seconds=self._now - self._start)
