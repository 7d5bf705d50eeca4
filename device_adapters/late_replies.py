"""Replies bound to their request: what a timed-out request may still receive, so it is never taken as the
answer to a later one.

A reply that misses its deadline can still arrive, and on these links nothing but its kind (Magstim: the
echoed command character; MagPro: the message type) says which request it answers. So a request that
times out leaves an entry here for ``window_s``; the first matching frame in that window is the late
reply, and is discarded. A serial line delivers in order and the unit answers in order, so once a later
request is answered every earlier one has had its reply or never will: ``settle()`` then forgets them.
Until then, a request of the same kind discards a reply it cannot tell apart (a refusal, never a wrong
answer); the Magstim driver first sends a query of another kind to settle the line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from device_adapters.clock import Clock

T = TypeVar("T")
# How long after its deadline a reply still counts as late (covers a stall, docs/device-protocols.md §1.8).
LATE_REPLY_WINDOW_S = 3.0


@dataclass
class _Owed(Generic[T]):
    request: bytes
    matches: Callable[[T], bool]
    until: float


class LateReplies(Generic[T]):
    """Replies owed to requests that timed out (thread-safe)."""

    def __init__(self, clock: Clock, window_s: float = LATE_REPLY_WINDOW_S) -> None:
        self._clock = clock
        self.window_s = window_s
        self._owed: list[_Owed[T]] = []
        self._lock = threading.Lock()

    def owe(self, request: bytes, matches: Callable[[T], bool]) -> None:
        """``request`` timed out: a reply for which ``matches`` is true may still come."""
        with self._lock:
            self._owed.append(_Owed(request, matches, self._clock.monotonic() + self.window_s))

    def claim(self, reply: T) -> bytes | None:
        """If ``reply`` may be the late answer to an earlier request, forget that request and return it."""
        now = self._clock.monotonic()
        with self._lock:
            self._owed = [o for o in self._owed if o.until > now]
            for index, owed in enumerate(self._owed):
                if owed.matches(reply):
                    del self._owed[index]
                    return owed.request
        return None

    def settle(self) -> None:
        """A later request was answered: replies still owed to earlier ones will not come now (in order)."""
        with self._lock:
            self._owed.clear()

    def owes(self, matches: Callable[[bytes], bool]) -> bool:
        """Whether a reply is still owed to a request for which ``matches(request)`` holds."""
        now = self._clock.monotonic()
        with self._lock:
            return any(o.until > now and matches(o.request) for o in self._owed)
