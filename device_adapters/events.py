"""Delivery events: what the device reported, each with a monotonic ``seq`` and a timestamp.

Their ``to_dict()`` form is the wire schema the chair agent stores in its outbox and sends to the
service; ``(device, device_session, seq)`` is its idempotency key.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal, get_args

from device_adapters.clock import Clock

log = logging.getLogger(__name__)

# The wire schema's event kinds, defined once: the device's reports below, plus the agent's own records of a run
# (run_started, programmed, run_ended, agent_note). The service validates batches against this type.
WireKind = Literal[
    "run_started", "programmed", "run_ended", "train_started", "train_ended", "pulses_delivered",
    "coil_temperature", "state_changed", "parameters_changed", "fault", "agent_note",
]
WIRE_KINDS: tuple[str, ...] = get_args(WireKind)


@dataclass(frozen=True, kw_only=True)
class DeliveryEvent:
    """Common fields: ``seq`` counts from 1 per open stimulator; ``at`` is UTC, ``monotonic`` is clock seconds."""

    kind: ClassVar[WireKind]
    seq: int
    at: datetime
    monotonic: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with ``kind`` and an ISO timestamp."""
        data = asdict(self)
        data["kind"] = self.kind
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True, kw_only=True)
class TrainStarted(DeliveryEvent):
    """A train began (host-triggered or started at the device's front panel).

    Its ``at`` and ``monotonic`` are no later than the unit began it, where the driver can know (taken before the
    trigger was sent, or when the unit was last seen idle): a train whose end no report gives is estimated from
    this start, so a stamp taken when the news arrived would make that estimate fall short.
    """

    kind: ClassVar[WireKind] = "train_started"
    train: int
    planned_pulses: int | None = None


@dataclass(frozen=True, kw_only=True)
class TrainEnded(DeliveryEvent):
    """A train ended; ``estimated`` when the device gives no pulse count and it was interrupted."""

    kind: ClassVar[WireKind] = "train_ended"
    train: int
    delivered_pulses: int
    completed: bool
    estimated: bool = False
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class PulsesDelivered(DeliveryEvent):
    """``count`` pulses delivered; ``total`` is the running total since the session began."""

    kind: ClassVar[WireKind] = "pulses_delivered"
    count: int
    total: int
    train: int | None = None
    di_dt: int | None = None


@dataclass(frozen=True, kw_only=True)
class CoilTemperature(DeliveryEvent):
    """Coil temperature as the device reports it (°C)."""

    kind: ClassVar[WireKind] = "coil_temperature"
    celsius: float
    second_winding_celsius: float | None = None


@dataclass(frozen=True, kw_only=True)
class StateChanged(DeliveryEvent):
    """Arm state changed: ``disarmed``, ``armed`` (charging) or ``ready``."""

    kind: ClassVar[WireKind] = "state_changed"
    state: str


@dataclass(frozen=True, kw_only=True)
class ParametersChanged(DeliveryEvent):
    """Parameters changed at the device (front panel) or read back after programming."""

    kind: ClassVar[WireKind] = "parameters_changed"
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Fault(DeliveryEvent):
    """A device error; ``error`` is the exception class name, ``message`` its text."""

    kind: ClassVar[WireKind] = "fault"
    error: str
    message: str


Listener = Callable[[DeliveryEvent], None]


class EventStream:
    """Numbers events, keeps them for iteration and calls listeners (thread-safe)."""

    def __init__(self, clock: Clock, maxlen: int = 100_000) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0
        self._pending: deque[DeliveryEvent] = deque(maxlen=maxlen)
        self._listeners: list[Listener] = []


    def stamp(self) -> tuple[datetime, float]:
        """The clock's wall and monotonic time now, to date an event by a moment before it is emitted."""
        return self._clock.now(), self._clock.monotonic()

    def emit(
        self, event_type: type[DeliveryEvent], stamp: tuple[datetime, float] | None = None, **fields: Any
    ) -> DeliveryEvent:
        """Create, number and publish an event, dated now or by ``stamp`` (from ``stamp()``)."""
        at, monotonic = stamp or self.stamp()
        with self._lock:
            self._seq += 1
            event = event_type(seq=self._seq, at=at, monotonic=monotonic, **fields)
            self._pending.append(event)
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the delivery loop
                log.exception("device event listener failed")
        return event

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every new event; returns a function that unsubscribes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def drain(self) -> list[DeliveryEvent]:
        """Take every event not yet taken."""
        with self._lock:
            events = list(self._pending)
            self._pending.clear()
        return events

    def __iter__(self) -> Iterator[DeliveryEvent]:
        return iter(self.drain())
