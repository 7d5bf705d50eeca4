"""A transcript of every frame the simulated device received and sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One frame: ``direction`` is ``"in"`` (host → device) or ``"out"``; ``note`` names a fault applied."""

    at: float
    direction: str
    data: bytes
    note: str = ""

    def __str__(self) -> str:
        arrow = "→" if self.direction == "in" else "←"
        return f"{self.at:12.3f} {arrow} {self.data.hex(' ')}{'  [' + self.note + ']' if self.note else ''}"


class Transcript:
    """Thread-safe, bounded list of entries."""

    def __init__(self, limit: int = 200_000) -> None:
        self._entries: list[Entry] = []
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, at: float, direction: str, data: bytes, note: str = "") -> None:
        """Append a frame."""
        with self._lock:
            if len(self._entries) >= self._limit:
                del self._entries[: self._limit // 10]
            self._entries.append(Entry(at, direction, bytes(data), note))

    def entries(self, direction: str | None = None) -> list[Entry]:
        """All entries, or only ``"in"``/``"out"``."""
        with self._lock:
            return [e for e in self._entries if direction is None or e.direction == direction]

    def commands(self) -> list[bytes]:
        """Frames received from the host."""
        return [e.data for e in self.entries("in")]

    def dump(self) -> str:
        """Human-readable text, one frame per line."""
        return "\n".join(str(e) for e in self.entries())
