"""The ``Stimulator`` every family driver implements, and the machinery they share.

A driver is a state machine that owns all waiting: every wait goes through the injected clock, so
tests against the simulator's virtual clock never sleep. Any error leaves the device disarmed (or
unreachable) and is reported as a ``Fault`` event before it is raised.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, ClassVar, TypeVar, cast

from config.device_profiles import DeviceProfile
from device_adapters.clock import Clock
from device_adapters.errors import (
    DeviceError,
    DisarmUnconfirmed,
    Disconnected,
    FrameRecord,
    LimitError,
    ParameterMismatch,
)
from device_adapters.events import DeliveryEvent, EventStream, Fault, Listener, StateChanged
from device_adapters.fail_closed import FailClosed
from device_adapters.keepalive import KeepAlive
from device_adapters.limits import check_intensity
from device_adapters.transport import Transport
from device_adapters.values import (
    DeliveryReport,
    DeviceStatus,
    Identity,
    ProgrammedParameters,
    TrainProtocol,
)

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


ALLOWED_UNCONFIRMED = {"status", "idle"}  # what may run while a disarm is unconfirmed


def guarded(method: F) -> F:
    """Public-method wrapper: re-raise background errors, refuse while a disarm is unconfirmed, and on any
    error disarm, then raise."""

    @functools.wraps(method)
    def wrapper(self: Stimulator, *args: Any, **kwargs: Any) -> Any:
        self._raise_background_error()
        if method.__name__ not in ALLOWED_UNCONFIRMED:
            self._refuse_while_unconfirmed(method.__name__)
        try:
            return method(self, *args, **kwargs)
        except DeviceError as exc:
            self._fail(exc)
            raise

    return cast(F, wrapper)


class Stimulator(FailClosed, ABC):
    """A stimulator on a serial line. Use as a context manager: it always ends disarmed and closed.

    Two locks: ``_lock`` serialises operations (a delivery holds it for its whole run); ``_wire`` serialises
    single exchanges on the line, and is all the keep-alive thread ever takes.
    """

    # Once started, the unit runs the whole protocol on its own (a MagPro's sequence), so a lost line does not stop
    # it. Otherwise the driver starts each train, and a unit that stops hearing from it stops (the Rapid²'s
    # keep-alive watchdog), or fires single pulses only.
    runs_protocol_alone: ClassVar[bool] = False

    def __init__(self, transport: Transport, profile: DeviceProfile, clock: Clock, **options: Any) -> None:
        self.profile = profile
        self.model = profile.model
        self.options = options
        self.events = EventStream(clock)
        self._transport = transport
        self._clock = clock
        self._lock = threading.RLock()
        self._wire = threading.RLock()
        self._last_tx = -math.inf
        self._stop_service = threading.Event()
        self._abort = threading.Event()
        self._service_thread: threading.Thread | None = None
        self._keepalive_timer: KeepAlive | None = None
        self._background_error: DeviceError | None = None
        self._closed = False
        self._armed = False
        self._intensity: dict[str, int] = {}
        self._protocol: TrainProtocol | None = None
        self.total_pulses = 0
        self._record_from = 0
        self._train_number = 0

    # ----- public API ---------------------------------------------------------------------------

    @guarded
    def identify(self) -> Identity:
        """Ask the device what it is (model, firmware, serial number where it reports them)."""
        with self._lock:
            return self._identify()

    @guarded
    def status(self) -> DeviceStatus:
        """Read the device state now.

        After an unconfirmed disarm this first lets the unit's watchdog run out (docs/devices.md, "Fail
        closed"), and a reading that shows the unit disarmed clears the refusal to arm or fire.
        """
        with self._lock:
            if self.disarm_unconfirmed is None:
                return self._status()
            self._await_quiet()
            self._confirming = True
            try:
                status = self._status()
            finally:
                self._confirming = False
            self._confirmed_by(status.armed)
            return status

    @guarded
    def set_intensity(self, percent: int, channel: str = "A") -> None:
        """Set the output in % of machine output; refused (not clamped) beyond the profile maximum."""
        check_intensity(self.profile, percent, channel)
        with self._lock:
            self._set_intensity(percent, channel)
            self._intensity[channel] = percent

    @guarded
    def configure_train(
        self,
        frequency_hz: float,
        pulses_per_train: int,
        trains: int,
        inter_train_interval_s: float,
        *,
        burst_pulses: int = 1,
        burst_ipi_ms: float | None = None,
    ) -> None:
        """Program a train protocol at the current intensity; refused if any limit is exceeded."""
        if "A" not in self._intensity:
            raise LimitError("set the intensity before configuring a train (limits depend on it)")
        protocol = TrainProtocol(
            self._intensity["A"],
            frequency_hz,
            pulses_per_train,
            trains,
            inter_train_interval_s,
            burst_pulses,
            burst_ipi_ms,
        )
        with self._lock:
            self._configure(protocol)
            self._protocol = protocol

    @guarded
    def arm(self) -> None:
        """Arm and wait until the device reports ready (docs/device-protocols.md §1.8: up to 1 s)."""
        with self._lock:
            self._arm()
            self._armed = True
            self.events.emit(StateChanged, state="ready")

    @guarded
    def fire(self) -> int:
        """Deliver one stimulus (single pulse, or one programmed train); return pulses delivered."""
        with self._lock:
            return self._fire()

    def disarm(self) -> None:
        """Disarm, retried within the unit's own timing; if no attempt is confirmed, fail closed.

        Failing closed (docs/devices.md): every keep-alive stops so a unit with a watchdog disarms itself, a
        ``Fault`` says "unit may be armed: press its stop", ``DisarmUnconfirmed`` is raised, and arm/fire are
        refused until ``status()`` shows the unit disarmed. Raises ``Disconnected`` if the port is gone.
        """
        with self._lock:
            self._disarm_now()

    def _disarm_now(self) -> None:
        self._disarm_confirmed()
        if self._armed:
            self.events.emit(StateChanged, state="disarmed")
        self._armed = False

    @guarded
    def stimulus_count(self) -> int | None:
        """The device's own count of stimuli since it was powered on, where it keeps one (MagPro, message 12);
        None for families that keep none (Magstim). Lets a restarted host learn what the device delivered
        while no host was listening."""
        with self._lock:
            return self._stimulus_count()

    @guarded
    def read_parameters(self) -> ProgrammedParameters:
        """The parameters the device holds now (to compare prescribed against programmed)."""
        with self._lock:
            return self._read_parameters()

    @guarded
    def program(self, protocol: TrainProtocol) -> ProgrammedParameters:
        """Set intensity and train from ``protocol``, read them back, raise if they differ."""
        self.set_intensity(protocol.intensity_percent, protocol.channel)
        self.configure_train(
            protocol.frequency_hz,
            protocol.pulses_per_train,
            protocol.trains,
            protocol.inter_train_interval_s,
            burst_pulses=protocol.burst_pulses,
            burst_ipi_ms=protocol.burst_ipi_ms,
        )
        params = self.read_parameters()
        if mismatches := params.differences(protocol):
            raise ParameterMismatch(
                "device parameters differ from the prescription: " + "; ".join(mismatches)
            )
        return params

    @guarded
    def run_protocol(
        self, protocol: TrainProtocol | None = None, stop: threading.Event | None = None
    ) -> DeliveryReport:
        """Control mode: program (if needed), verify, arm, deliver every train, stop at the prescribed count."""
        protocol = protocol or self._protocol
        if protocol is None:
            raise LimitError("no protocol configured")
        params = self.program(protocol) if protocol != self._protocol else self.read_parameters()
        report = DeliveryReport("control", protocol.total_pulses, parameters=params)
        self._abort.clear()
        with self._lock:
            self._run_trains(protocol, report, stop or self._abort)
        self.disarm()
        report.completed = report.delivered_pulses == protocol.total_pulses
        return report

    @guarded
    def record(
        self,
        expected_pulses: int | None = None,
        stop: threading.Event | None = None,
        timeout_s: float | None = None,
        idle_timeout_s: float = 60.0,
    ) -> DeliveryReport:
        """Record mode: the technician runs the protocol at the device; report what it delivered.

        Ends when ``expected_pulses`` are delivered (default: what the device is programmed for),
        when ``stop`` is set, after ``timeout_s``, or ``idle_timeout_s`` after the last train ended.
        """
        self._abort.clear()
        with self._lock:
            self._record_from = self.total_pulses  # pulses seen while reading parameters count too
            params = self._read_parameters()
            report = DeliveryReport("record", expected_pulses, parameters=params)
            self._observe(report, stop or self._abort, timeout_s, idle_timeout_s)
        return report

    def abort(self) -> None:
        """Ask a running ``run_protocol``/``record`` to stop at the next poll (any thread)."""
        self._abort.set()

    @guarded
    def idle(self, seconds: float) -> None:
        """Let ``seconds`` pass while servicing the device (keep-alive, unsolicited messages)."""
        deadline = self._clock.monotonic() + seconds
        while (left := deadline - self._clock.monotonic()) > 0:
            with self._lock:
                self._service()
            self._clock.sleep(min(left, self._service_interval()))

    def recent_frames(self) -> tuple[FrameRecord, ...]:
        """The last frames exchanged on the wire, oldest first (each with its clock time)."""
        return self._transport.recent()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every delivery event; returns an unsubscribe function."""
        return self.events.subscribe(listener)

    def iter_events(self, timeout_s: float = 0.0) -> Iterator[DeliveryEvent]:
        """Yield events not yet taken, servicing the device for up to ``timeout_s`` while waiting."""
        deadline = self._clock.monotonic() + timeout_s
        while True:
            yield from self.events.drain()
            left = deadline - self._clock.monotonic()
            if self._closed or left <= 0:
                return
            self.idle(min(left, 0.1))

    def close(self) -> None:
        """Stop background work, disarm, hand control back to the unit and release the port."""
        if self._closed:
            return
        self._stop_service.set()
        if self._keepalive_timer is not None:
            self._keepalive_timer.stop()
        if self._service_thread is not None and self._service_thread is not threading.current_thread():
            self._service_thread.join()
        with self._lock:
            self._closed = True
            if self._transport.is_open:
                self._safe(self._disarm_confirmed)
                if self.disarm_unconfirmed is None:
                    self._safe(self._release)
            self._transport.close()

    def __enter__(self) -> Stimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ----- shared machinery ---------------------------------------------------------------------

    def _start_service_thread(self) -> None:
        """Start the keep-alive timer (families with a watchdog) or the reader of unsolicited messages."""
        if self._has_keepalive():
            self._keepalive_timer = KeepAlive(
                f"stimulator-keepalive-{self.model}",
                self._clock,
                self._service_interval(),
                self._keepalive_tick,
                self._background_failure,
                self._keepalive_gave_up,
            )
            self._keepalive_timer.start()
            return
        self._service_thread = threading.Thread(
            target=self._service_loop, name=f"stimulator-service-{self.model}", daemon=True
        )
        self._service_thread.start()

    def _service_loop(self) -> None:
        """Read unsolicited messages between operations; an operation in progress reads them itself (this
        thread blocks on its lock meanwhile: a MagPro needs no keep-alive). Errors do not end it."""
        while not self._clock.wait(self._stop_service, self._service_interval()):
            with self._lock:
                if self._closed:
                    return
                try:
                    self._service()
                except Disconnected as exc:
                    self._background_failure(exc)
                    return
                except DeviceError as exc:
                    self._background_failure(exc)

    def _background_failure(self, exc: DeviceError) -> None:
        """An error seen off the caller's thread: reported now, raised by the next public call (once: the
        timer keeps running, and a condition it sees on every tick is reported only until then)."""
        if self._background_error is not None:
            return
        self._background_error = exc
        self._fail(exc)

    def _keepalive_gave_up(self, exc: DeviceError) -> None:
        """Keep-alive failed ``max_failures`` times in a row: the unit's state is unknown, fail closed."""
        try:
            self._disarm_now()
        except DisarmUnconfirmed as unconfirmed:
            self._background_error = unconfirmed
            return
        except DeviceError as other:
            self._background_failure(other)
            return
        self._background_failure(exc)

    def _raise_background_error(self) -> None:
        if self._closed:
            raise Disconnected(f"{self.model} on {self._transport.url} is closed")
        if self._background_error is not None:
            error, self._background_error = self._background_error, None
            raise error

    def _fail(self, exc: DeviceError) -> None:
        if getattr(exc, "reported", False):
            return  # nested guarded calls: handle each error once
        exc.reported = True
        exc.with_frames(self._transport.recent())
        if not isinstance(exc, LimitError):
            self.events.emit(Fault, error=type(exc).__name__, message=str(exc))
        if self._transport.is_open and not isinstance(exc, Disconnected) and self.disarm_unconfirmed is None:
            self._safe(self._disarm_now)

    def _safe(self, action: Callable[[], None]) -> None:
        try:
            action()
        except DeviceError as exc:
            log.warning("%s: %s failed while recovering: %s", self.model, action.__name__, exc)

    # ----- family hooks ---------------------------------------------------------------------------

    @abstractmethod
    def _identify(self) -> Identity: ...

    @abstractmethod
    def _status(self) -> DeviceStatus: ...

    @abstractmethod
    def _set_intensity(self, percent: int, channel: str) -> None: ...

    @abstractmethod
    def _configure(self, protocol: TrainProtocol) -> None: ...

    @abstractmethod
    def _arm(self) -> None: ...

    @abstractmethod
    def _fire(self) -> int: ...

    @abstractmethod
    def _disarm(self, timeout: float | None = None) -> None: ...

    @abstractmethod
    def _read_parameters(self) -> ProgrammedParameters: ...

    @abstractmethod
    def _run_trains(self, protocol: TrainProtocol, report: DeliveryReport, stop: threading.Event) -> None: ...

    @abstractmethod
    def _observe(
        self, report: DeliveryReport, stop: threading.Event, timeout_s: float | None, idle_timeout_s: float
    ) -> None: ...

    @abstractmethod
    def _service(self) -> None:
        """Periodic work: keep-alive, reading unsolicited messages."""

    @abstractmethod
    def _service_interval(self) -> float: ...

    def _has_keepalive(self) -> bool:
        """Whether the unit needs commands to stay under remote control (then the timer thread sends them)."""
        return False

    def _keepalive_tick(self) -> None:
        """One keep-alive tick, from the timer thread: take only the wire lock."""

    def _stimulus_count(self) -> int | None:
        """Families that keep a stimulus counter override this."""
        return None

    def _release(self) -> None:  # noqa: B027 - optional hook: only Magstim holds remote control
        """Hand control back to the unit's own panel (families with remote control override)."""
