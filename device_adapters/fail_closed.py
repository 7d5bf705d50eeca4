"""Fail closed: a disarm is retried within the unit's own timing; if it is never confirmed, the driver goes
silent so a unit with a watchdog disarms itself, reports it, and refuses arm/fire until a status read shows
the unit disarmed (docs/devices.md, "Fail closed").

Why silence: a Magstim under remote control disarms itself when it has seen no command for its armed
watchdog (1 s, docs/device-protocols.md §1.8); every command the host sends, a keep-alive above all, restarts that
watchdog. A disarm command itself is always safe to repeat: a unit that receives it disarms.
"""

from __future__ import annotations

import logging
import math
import threading

from device_adapters.clock import Clock
from device_adapters.errors import DeviceError, DisarmUnconfirmed, Disconnected
from device_adapters.events import EventStream, Fault, StateChanged

log = logging.getLogger(__name__)
UNIT_MAY_BE_ARMED = "unit may be armed: press its stop"
WATCHDOG_MARGIN_S = 0.25  # beyond the unit's watchdog before a status read may be sent


class FailClosed:
    """Mixed into ``Stimulator``: the disarm retry loop and the fail-closed state."""

    events: EventStream
    model: str
    _clock: Clock
    _wire: threading.RLock
    _armed: bool
    _last_tx: float

    disarm_attempts = 3
    disarm_unconfirmed: str | None = None  # the chair's message while the unit may be armed
    _quiet_until = -math.inf  # fail-closed: nothing but a disarm is sent before this
    _confirming = False  # a status read that may clear the fail-closed state is in flight

    # ----- family hooks -----------------------------------------------------------------------

    def _disarm(self, timeout: float | None = None) -> None:
        """One disarm exchange; raises if the unit did not confirm it within ``timeout``."""
        raise NotImplementedError

    def _disarm_timeout_s(self) -> float:
        """Per-attempt reply deadline of a disarm."""
        raise NotImplementedError

    def _watchdog_s(self) -> float | None:
        """How long the unit stays armed without a command before it disarms itself (None: no watchdog)."""
        return None

    def _on_fail_closed(self) -> None:  # noqa: B027 - optional hook
        """Family reaction to going silent (Magstim: remote control will lapse with the watchdog)."""

    # ----- the machinery ----------------------------------------------------------------------

    def _disarm_confirmed(self) -> None:
        """Up to ``disarm_attempts`` disarm exchanges; fail closed and raise if none is confirmed."""
        last: DeviceError | None = None
        for attempt in range(1, self.disarm_attempts + 1):
            try:
                with self._wire:
                    self._disarm(self._disarm_timeout_s())
                return
            except Disconnected:
                raise
            except DeviceError as exc:
                last = exc
                log.warning("%s: disarm attempt %d of %d not confirmed: %s", self.model, attempt,
                            self.disarm_attempts, exc)
        assert last is not None
        raise self._fail_closed(f"disarm not confirmed after {self.disarm_attempts} attempts ({last})", last)

    def _fail_closed(self, why: str, cause: DeviceError | None = None) -> DisarmUnconfirmed:
        """Go silent, report once, and return the error to raise."""
        with self._wire:
            first = self.disarm_unconfirmed is None
            watchdog = self._watchdog_s()
            self.disarm_unconfirmed = UNIT_MAY_BE_ARMED
            self._quiet_until = self._last_tx + (watchdog or 0.0) + (WATCHDOG_MARGIN_S if watchdog else 0.0)
            self._armed = False  # unknown, not armed-by-us: nothing may keep it alive
            self._on_fail_closed()
        after = (
            f"the driver sends nothing more, so the unit's own {watchdog:g} s watchdog disarms it"
            if watchdog
            else "this unit has no watchdog: stop it at the unit"
        )
        message = f"{UNIT_MAY_BE_ARMED} ({why}; {after})"
        error = DisarmUnconfirmed(message, cause.frames if cause else ())
        error.reported = True
        if first:
            self.events.emit(Fault, error=type(error).__name__, message=message)
        return error

    def _may_send(self, disarm: bool = False) -> None:
        """Refuse to send anything but a disarm (or the confirming status read) while failed closed."""
        if self.disarm_unconfirmed is not None and not disarm and not self._confirming:
            raise DisarmUnconfirmed(f"{UNIT_MAY_BE_ARMED}: read its status to confirm it is disarmed")

    def _refuse_while_unconfirmed(self, action: str) -> None:
        if self.disarm_unconfirmed is not None:
            error = DisarmUnconfirmed(
                f"{action} refused: {UNIT_MAY_BE_ARMED}; a status read must first show it disarmed"
            )
            error.reported = True
            raise error

    def _await_quiet(self) -> None:
        """Let the unit's watchdog run out before the confirming status read (sending earlier restarts it)."""
        while (left := self._quiet_until - self._clock.monotonic()) > 0:
            self._clock.sleep(left)

    def _confirmed_by(self, armed: bool) -> None:
        """Clear the fail-closed state when a status read shows the unit disarmed."""
        if self.disarm_unconfirmed is not None and not armed:
            self.disarm_unconfirmed = None
            self._quiet_until = -math.inf
            self.events.emit(StateChanged, state="disarmed")
