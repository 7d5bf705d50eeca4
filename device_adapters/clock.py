"""Clocks the driver waits on: the system clock, or any object with the same four methods."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the driver needs of time; the simulator's virtual clock satisfies it too."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block until ``event`` is set or ``timeout`` seconds pass; return whether it was set."""
        ...

    def now(self) -> datetime:
        """The current UTC wall time."""
        ...


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep``."""
        time.sleep(max(0.0, seconds))

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """``event.wait(timeout)``."""
        return event.wait(max(0.0, timeout))

    def now(self) -> datetime:
        """UTC now."""
        return datetime.now(UTC)


class ScaledClock:
    """Real time run ``speed`` times faster (for tests against a simulator in another process)."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._origin = time.monotonic()
        self._wall_origin = datetime.now(UTC)

    def monotonic(self) -> float:
        """Scaled seconds since this clock was made."""
        return (time.monotonic() - self._origin) * self.speed

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of scaled time."""
        time.sleep(max(0.0, seconds) / self.speed)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait ``timeout`` seconds of scaled time for ``event``."""
        return event.wait(max(0.0, timeout) / self.speed)

    def now(self) -> datetime:
        """Wall time advancing at the scaled rate."""
        return self._wall_origin + timedelta(seconds=self.monotonic())
