"""Magstim driver core shared by 200², BiStim² and Rapid²: remote control, keep-alive, arm/fire/disarm.

Hardware facts (docs/device-protocols.md §1.8, TDb086 §3b, TDb087 §5.4–5.5): set commands need remote control;
under remote control the unit must see a status-returning command every 10 s in standby and every
1 s armed (we send one every 2 s / 0.5 s, from the keep-alive timer thread); arming reaches ready within
1 s; a reply's status byte shows the state *before* the command, except ``Q``/``R`` which show the new
remote bit. The unit answers one command at a time and a reply names only its command character, so
stale input is dropped before each command and a late reply is never taken as a later command's answer
(``device_adapters/late_replies.py``).
"""

from __future__ import annotations

import contextlib
from typing import Any

from config.device_profiles import DeviceProfile
from device_adapters.clock import Clock
from device_adapters.errors import (
    CoilFault,
    CommandRejected,
    DataRejected,
    DeviceError,
    DeviceFault,
    DeviceTimeout,
    RemoteControlLost,
    StateRejected,
    StoppedAtDevice,
)
from device_adapters.events import CoilTemperature, PulsesDelivered
from device_adapters.late_replies import LATE_REPLY_WINDOW_S, LateReplies
from device_adapters.magstim import codec
from device_adapters.magstim.replies import (
    CoilTemperatures,
    ErrorReply,
    InstrumentStatus,
    Reply,
)
from device_adapters.stimulator import Stimulator
from device_adapters.transport import Transport


class MagstimDriver(Stimulator):
    """Common Magstim behaviour; subclasses add the model's commands."""

    keepalive_command = "J"  # a status-returning command that, unlike Q, cannot silently re-take control

    def __init__(self, transport: Transport, profile: DeviceProfile, clock: Clock, **options: Any) -> None:
        super().__init__(transport, profile, clock, **options)
        self.reply_timeout_s: float = options.get("reply_timeout_s", 0.5)
        self.unlock_code: str | None = options.get("unlock_code")
        self.firmware: tuple[int, ...] | None = None
        self._splitter = codec.FrameSplitter()
        self._late: LateReplies[bytes] = LateReplies(clock, options.get("late_reply_s", LATE_REPLY_WINDOW_S))
        self._remote = False
        self._last_temperature: float | None = None
        self.last_status: InstrumentStatus | None = None
        assert profile.keepalive is not None
        self._keepalive = profile.keepalive

    def connect(self) -> None:
        """Take remote control and start the keep-alive thread."""
        with self._lock:
            self._enable_remote()
        if self.options.get("keepalive_thread", True):
            self._start_service_thread()

    # ----- request / reply ----------------------------------------------------------------------

    def _transact(self, data: bytes, timeout: float | None = None, check: bool = True) -> Reply:
        command = chr(data[0])
        disarm = data == codec.set_mode("disarm")
        with self._wire:  # one exchange at a time, whichever thread (the keep-alive takes only this lock)
            self._may_send(disarm)
            self._flush_stale()
            if self._late.owes(lambda request: chr(request[0]) == command):
                sync = self._status_query()
                if sync != command:  # another kind of query, answered in order, settles the line first
                    self._transact(codec.query(sync), check=False)
            self._transport.write(data)
            self._last_tx = sent = self._clock.monotonic()
            reply = self._await_reply(data, sent + (timeout or self.reply_timeout_s))
            if isinstance(reply, ErrorReply):
                raise self._rejection(reply, command)
            status = getattr(reply, "status", None)
            if isinstance(status, InstrumentStatus):
                self.last_status = status
                if check:
                    self._check_status(status, command)
            return reply

    def _flush_stale(self) -> None:
        """Drop what arrived since the last exchange: it answers nothing we are about to ask."""
        for frame in self._splitter.feed(self._transport.discard_input()):
            self._late.claim(frame)  # a late reply that came between commands settles what it was owed

    def _await_reply(self, request: bytes, deadline: float) -> Reply:
        """The reply to ``request``, read until ``deadline``; one still owed to an earlier, timed-out command
        of the same character is discarded (it cannot be told from this one's, so it is never taken)."""
        command = chr(request[0])
        while True:
            frames = self._splitter.feed(self._transport.read_until(deadline, self._splitter.missing()))
            for frame in frames:
                owed = self._late.claim(frame)
                if owed is not None:
                    self._transport.note_rx(frame, f"late reply to {owed!r}: discarded")
                    continue
                if frame != b"?" and chr(frame[0]) != command:
                    self._transport.note_rx(frame, "answers no command in flight: discarded")
                    continue
                self._transport.note_rx(frame)
                self._late.settle()  # answered in order: nothing sent before this can still answer
                return codec.decode(frame)
            if self._clock.monotonic() >= deadline:
                self._splitter.clear()
                self._owe(request)
                raise DeviceTimeout(
                    f"no reply to {command!r} by its deadline (a late one will be discarded)",
                    self._transport.recent(),
                )

    def _owe(self, request: bytes) -> None:
        command = chr(request[0])
        self._late.owe(request, lambda frame: frame == b"?" or chr(frame[0]) == command)

    def _rejection(self, reply: ErrorReply, command: str) -> DeviceError:
        frames = self._transport.recent()
        if reply.kind == "unknown":
            return CommandRejected(f"the device does not know command {command!r}", frames)
        if reply.kind == "data":
            return DataRejected(f"the device refused the data sent with {command!r}", frames)
        if self._remote and command not in "QR" and not self._still_remote():
            return RemoteControlLost(f"{command!r} refused: the device no longer has remote control", frames)
        return StateRejected(f"the device refused {command!r} in its current state", frames)

    def _still_remote(self) -> bool:
        """After an ``S`` reply: does the unit still report remote control? (query needs no remote)"""
        reply = self._transact(codec.query("\\" if self.profile.rapid else "J"), check=False)
        status = getattr(reply, "status", None)
        remote = bool(status is not None and status.remote)
        if not remote:
            self._remote = self._armed = False
        return remote

    def _check_status(self, status: InstrumentStatus, command: str) -> None:
        if not status.coil_present:
            raise CoilFault("no coil is connected")
        if status.replace_coil:
            raise CoilFault("the coil needs replacing")
        if status.error:
            raise self._device_fault(status)
        if self._remote and command not in "QR" and not status.remote:
            self._remote = False
            self._armed = False
            raise RemoteControlLost("the device no longer reports remote control (keep-alive missed?)")

    def _device_fault(self, status: InstrumentStatus) -> DeviceFault:
        kind = "fatal" if status.fatal else "non-fatal"
        return DeviceFault(f"the device reports a {kind} error", fatal=status.fatal)

    # ----- remote control and keep-alive --------------------------------------------------------

    def _enable_remote(self) -> None:
        reply = self._transact(codec.enable_remote(self.unlock_code))
        status = getattr(reply, "status", None)
        if not isinstance(status, InstrumentStatus) or not status.remote:
            raise StateRejected("the device did not accept remote control")
        self._remote = True

    def _ensure_remote(self) -> None:
        if not self._remote:
            self._enable_remote()

    def _release(self) -> None:
        if self._remote:
            self._remote = False
            self._transact(codec.query("R"), check=False)

    def _service_interval(self) -> float:
        return self._keepalive.armed_interval_s / 2

    def _keepalive_due(self) -> bool:
        if not self._remote or self.disarm_unconfirmed is not None or self._closed:
            return False  # failed closed: silence is what lets the unit's watchdog disarm it
        interval = self._keepalive.armed_interval_s if self._armed else self._keepalive.standby_interval_s
        return self._clock.monotonic() - self._last_tx >= interval

    def _service(self) -> None:
        if self._keepalive_due():
            self._poll()

    def _has_keepalive(self) -> bool:
        return True

    def _keepalive_tick(self) -> None:
        """From the timer thread: a status query when one is due, by a command no late reply is owed to."""
        if not self._keepalive_due():
            return  # checked without the wire lock first: most ticks have nothing to send
        with self._wire:
            if self._keepalive_due():
                self._transact(codec.query(self._status_query()))

    def _status_queries(self) -> tuple[str, ...]:
        """Queries whose reply carries the instrument status (the keep-alive's first)."""
        return (self.keepalive_command, "F")  # F (coil temperature) also returns the status byte

    def _status_query(self) -> str:
        """A status query no late reply is owed to (so its reply cannot be discarded as someone else's)."""
        for command in self._status_queries():
            if not self._late.owes(lambda request, c=command: chr(request[0]) == c):  # type: ignore[misc]
                return command
        return self.keepalive_command

    def _watchdog_s(self) -> float | None:
        return self._keepalive.armed_timeout_s if self._remote else None

    def _disarm_timeout_s(self) -> float:
        # Every attempt (disarm, then a confirming query) fits in the unit's armed watchdog
        # (docs/device-protocols.md §1.8).
        return min(self.reply_timeout_s, self._keepalive.armed_timeout_s / (2 * self.disarm_attempts))

    def _on_fail_closed(self) -> None:
        self._remote = False  # it lapses with the watchdog; arm takes it again after a confirmed disarm

    def _poll(self) -> InstrumentStatus:
        """Send the keep-alive query; notice a disarm the host did not ask for."""
        reply = self._transact(codec.query(self._status_query()))
        status = getattr(reply, "status")  # noqa: B009 - every keep-alive reply carries a status
        if self._armed and not status.armed:
            self._unexpected_disarm(status)
        return status

    def _unexpected_disarm(self, status: InstrumentStatus) -> None:
        self._armed = False
        self._check_temperature()
        if not status.remote:
            self._remote = False
            raise RemoteControlLost("the device dropped remote control and disarmed")
        raise StoppedAtDevice("the device disarmed itself (stopped at the unit)")

    # ----- arm / fire / disarm ------------------------------------------------------------------

    def _coil_temperature(self) -> CoilTemperatures:
        reply = self._transact(codec.query("F"))
        assert isinstance(reply, CoilTemperatures)
        hottest = max(reply.coil1_c, reply.coil2_c)
        if self._last_temperature is None or abs(hottest - self._last_temperature) >= 0.1:
            self.events.emit(CoilTemperature, celsius=reply.coil1_c, second_winding_celsius=reply.coil2_c)
        self._last_temperature = hottest
        return reply

    def _check_temperature(self) -> None:
        temps = self._coil_temperature()
        hottest = max(temps.coil1_c, temps.coil2_c)
        if hottest >= self.profile.coil_cutoff_c:
            raise CoilFault(
                f"coil temperature {hottest:.1f} °C is at or above the {self.profile.coil_cutoff_c:g} °C cut-off"
            )

    def _arm(self) -> None:
        self._ensure_remote()
        self._check_temperature()
        self._transact(codec.set_mode("arm"))
        self._armed = True  # from here a disarm we did not ask for is a fault
        self._wait_ready(self.profile.arm_ready_s, "of arming")

    def _wait_ready(self, within_s: float, after: str) -> None:
        """Poll until ready; the unit takes up to ``within_s`` (docs/device-protocols.md §1.8), we allow 0.5 s more."""
        deadline = self._clock.monotonic() + within_s + 0.5
        while not self._poll().ready:
            if self._clock.monotonic() >= deadline:
                raise DeviceTimeout(f"the device was not ready within {within_s:g} s {after}")
            self._clock.sleep(0.05)

    def _fire_single(self) -> int:
        if not self._armed:
            raise StateRejected("arm the device before firing")
        power = self._intensity.get("A", 0)
        self._wait_ready(self.profile.recharge_time_s(power), "of the last pulse (recharge)")
        self._transact(codec.set_mode("fire"))
        self.total_pulses += 1
        self.events.emit(PulsesDelivered, count=1, total=self.total_pulses)
        return 1

    def _disarm(self, timeout: float | None = None) -> None:
        """``EA``; if its reply does not come (lost, or indistinguishable from a late one), the unit's own
        status says whether it took the disarm: a query's status byte shows the state after ``EA``."""
        try:
            with contextlib.suppress(StateRejected):  # S: already disarmed
                self._transact(codec.set_mode("disarm"), timeout, check=False)
        except DeviceTimeout:
            reply = self._transact(codec.query(self._status_query()), timeout, check=False)
            status = getattr(reply, "status", None)
            if not isinstance(status, InstrumentStatus) or status.armed:
                raise
        self._armed = False

    def _wait(self, seconds: float, stop: Any) -> bool:
        """Wait ``seconds`` while keeping the link alive; return False if ``stop`` was set."""
        deadline = self._clock.monotonic() + seconds
        while (left := deadline - self._clock.monotonic()) > 0:
            if stop.is_set():
                return False
            self._service()
            self._clock.sleep(min(left, 0.1))
        return not stop.is_set()
