"""The keep-alive: its own thread and timer, independent of whatever the delivery thread is doing.

It takes only the wire lock (one exchange at a time), never the operation lock a delivery holds for its
whole run, and it never emits events while the link is healthy (listeners write the agent's outbox, which
can be slow), so a busy machine cannot starve the unit's watchdog (Rapid²: 1 s armed, docs/devices.md).
Transient errors (no reply, a garbled reply) are retried on the next tick; after ``max_failures`` in a row
the driver fails closed. Any other device error is handed to the driver and the timer carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from device_adapters.clock import Clock
from device_adapters.errors import CodecError, DeviceError, DeviceTimeout, Disconnected

log = logging.getLogger(__name__)
TRANSIENT = (DeviceTimeout, CodecError)


class KeepAlive:
    """Calls ``tick`` every ``interval_s`` (on ``clock``) until stopped; counts transient failures."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        interval_s: float,
        tick: Callable[[], None],
        on_error: Callable[[DeviceError], None],
        on_give_up: Callable[[DeviceError], None],
        max_failures: int = 3,
    ) -> None:
        self._clock = clock
        self._interval_s = interval_s
        self._tick = tick
        self._on_error = on_error
        self._on_give_up = on_give_up
        self.max_failures = max_failures
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and join (safe from the timer thread itself)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    @property
    def running(self) -> bool:
        """Whether the timer thread is alive."""
        return self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        while not self._clock.wait(self._stop, self._interval_s):
            try:
                self._tick()
                self.failures = 0
            except Disconnected as exc:
                self._on_error(exc)
                return
            except TRANSIENT as exc:
                self.failures += 1
                log.warning("keep-alive failed (%d of %d): %s", self.failures, self.max_failures, exc)
                if self.failures >= self.max_failures:
                    self._on_give_up(exc)
                    self.failures = 0
            except DeviceError as exc:
                self._on_error(exc)
