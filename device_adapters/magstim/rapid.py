"""Magstim Rapid² (TDb087): version query, unlock code from V9, trains, energy limits.

Train sequence (TDb087 §5.6, docs/device-protocols.md §1.8): remote control, ``[`` 1.0 s (train mode), power,
frequency, pulse count, duration; arm, wait for ready, ``EH`` fires one train. After each train the
unit enforces a wait (≥ 0.5 s) and refuses parameter changes during it. The unit reports no pulse
count: a train that ran its full duration delivered its programmed pulses; an interrupted one is
estimated from time and flagged ``estimated``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from datetime import datetime, timedelta
from typing import Any

from config.device_profiles import DeviceProfile
from device_adapters.clock import Clock
from device_adapters.errors import (
    DataRejected,
    DeviceError,
    DeviceFault,
    Disconnected,
    InterlockError,
    RejectedError,
    RemoteControlLost,
    StoppedAtDevice,
)
from device_adapters.events import PulsesDelivered, TrainEnded, TrainStarted
from device_adapters.fail_closed import WATCHDOG_MARGIN_S
from device_adapters.limits import check_rapid_train
from device_adapters.magstim import codec
from device_adapters.magstim.driver import MagstimDriver
from device_adapters.magstim.replies import (
    ErrorCode,
    ErrorReply,
    InstrumentStatus,
    RapidParameters,
    RapidStatus,
    Version,
)
from device_adapters.transport import Transport
from device_adapters.values import (
    DeliveryReport,
    DeviceStatus,
    Identity,
    ProgrammedParameters,
    TrainProtocol,
    TrainRecord,
)


class Rapid2Driver(MagstimDriver):
    """Rapid² driver; options: ``unlock_code``, ``supply_voltage`` ("240"/"115"), ``system``."""

    def __init__(self, transport: Transport, profile: DeviceProfile, clock: Clock, **options: Any) -> None:
        super().__init__(transport, profile, clock, **options)
        self.supply = str(options.get("supply_voltage", "240"))
        self.system: str = options.get("system", "rapid")
        self.train_poll_s: float = options.get("train_poll_s", 0.25)
        self.last_rapid: RapidStatus | None = None
        self.version_text: str | None = None
        self._last_record: TrainRecord | None = None
        self._disarm_seen: float | None = None  # clock time of the reply that showed an unasked-for disarm

    @property
    def firmware_major(self) -> int:
        """Major firmware version (0 before ``connect``)."""
        return self.firmware[0] if self.firmware else 0

    def connect(self) -> None:
        """Take remote control (with the unlock code from V9), then read the firmware version."""
        with self._lock:
            try:
                self._enable_remote()
            except DataRejected as exc:
                hint = (
                    "from firmware V9 the Rapid² needs its unlock code: pass unlock_code=..."
                    if self.unlock_code is None
                    else "the Rapid² refused the unlock code"
                )
                raise DataRejected(f"remote control refused: {hint}", exc.frames) from exc
            reply = self._transact(codec.get_version())
            assert isinstance(reply, Version)
            self.firmware, self.version_text = reply.numbers, reply.text
            self._splitter.firmware = reply.numbers
            # x@ is the V9+ keep-alive; before V9 the parameter query also returns the status.
            self.keepalive_command = "x" if self.firmware_major >= 9 else "\\"
        if self.options.get("keepalive_thread", True):
            self._start_service_thread()

    # ----- queries ----------------------------------------------------------------------------

    def _parameters(self) -> RapidParameters:
        reply = self._transact(codec.query("\\"))
        assert isinstance(reply, RapidParameters)
        self.last_rapid = reply.rapid
        return reply

    def _status_queries(self) -> tuple[str, ...]:
        return ("x", "\\", "F") if self.firmware_major >= 9 else ("\\", "F")

    def _poll(self) -> InstrumentStatus:
        reply = self._transact(codec.query(self._status_query()))
        status: InstrumentStatus = getattr(reply, "status")  # noqa: B009
        self.last_rapid = getattr(reply, "rapid", None) or self.last_rapid  # F (a fallback) carries none
        if self._armed and not status.armed:
            self._unexpected_disarm(status)
        return status

    def _identify(self) -> Identity:
        params = self._parameters()
        return Identity(
            self.model,
            "magstim",
            self.profile.display_name,
            firmware=self.version_text,
            details={
                "supply_voltage": self.supply,
                "system": self.system,
                "theta_psu": params.rapid.theta_psu,
                "hv_psu": params.rapid.hv_psu,
            },
        )

    def _status(self) -> DeviceStatus:
        params = self._parameters()
        temps = self._coil_temperature()
        st = params.status
        return DeviceStatus(
            armed=st.armed,
            ready=st.ready,
            coil_present=st.coil_present,
            remote=st.remote,
            coil_temperature_c=max(temps.coil1_c, temps.coil2_c),
            intensity_a=params.power,
            train_running=params.rapid.train,
        )

    def _read_parameters(self) -> ProgrammedParameters:
        p = self._parameters()
        if p.rapid.single_pulse:
            return ProgrammedParameters(intensity_a=p.power)
        return ProgrammedParameters(
            intensity_a=p.power, frequency_hz=p.frequency_hz, pulses_per_train=p.pulses
        )

    # ----- faults -----------------------------------------------------------------------------

    def _device_fault(self, status: InstrumentStatus) -> DeviceFault:
        fault = super()._device_fault(status)
        try:
            reply = self._transact(codec.query("I"), check=False)
        except DeviceError:
            return fault
        if isinstance(reply, ErrorCode):
            source = {"U": "user interface", "C": "coil", "E": "system"}.get(reply.source, reply.source)
            return DeviceFault(f"{fault} (code {reply.source}{reply.code:02d}, {source})", fatal=status.fatal)
        return fault

    def _rejection(self, reply: ErrorReply, command: str) -> DeviceError:
        if command == "E" and reply.kind == "state":
            params = self._transact(codec.query("\\"), check=False)
            if isinstance(params, RapidParameters) and not params.rapid.coil_ready:
                return InterlockError("the coil safety interlock is open (coil not ready)")
        return super()._rejection(reply, command)

    def _unexpected_disarm(self, status: InstrumentStatus) -> None:
        self._disarm_seen = self._clock.monotonic()  # a train running stopped by the time this reply came
        self._armed = False
        self._check_temperature()
        rapid = self._parameters().rapid
        if not rapid.coil_ready:
            raise InterlockError("the coil safety interlock opened and the device disarmed")
        if not status.remote:
            self._remote = False
            raise RemoteControlLost("the device dropped remote control and disarmed")
        raise StoppedAtDevice("the device disarmed itself (stopped at the unit)")

    # ----- programming ------------------------------------------------------------------------

    def _check(self, protocol: TrainProtocol) -> None:
        check_rapid_train(self.profile, protocol, self.firmware_major, self.supply, self.system)

    def _set_intensity(self, percent: int, channel: str) -> None:
        if self._protocol is not None:
            self._check(dataclasses.replace(self._protocol, intensity_percent=percent))
        self._ensure_remote()
        self._transact(codec.set_power(percent, channel))

    def _configure(self, protocol: TrainProtocol) -> None:
        self._check(protocol)
        self._ensure_remote()
        self._wait_post_train()
        major = self.firmware_major
        self._transact(codec.set_duration(1.0, major))  # any duration > 0 selects train mode
        self._transact(codec.set_frequency(protocol.frequency_hz))
        self._transact(codec.set_pulses(protocol.pulses_per_train, major))
        self._transact(codec.set_duration(round(protocol.train_duration_s, 1), major))

    def _wait_post_train(self) -> None:
        deadline = self._clock.monotonic() + 120.0
        while self._parameters().rapid.wait and self._clock.monotonic() < deadline:
            self._clock.sleep(0.1)

    # ----- delivery -----------------------------------------------------------------------------

    def _fire(self) -> int:
        if self._protocol is None:
            return self._fire_single()
        return self._deliver_train(self._protocol).delivered_pulses

    def _deliver_train(self, protocol: TrainProtocol) -> TrainRecord:
        """Fire one train and watch the train bit until it ends (device gives no pulse count)."""
        self._wait_ready(
            max(self.profile.rapid.min_wait_s if self.profile.rapid else 0.5, 1.0) + 1.0, "of the last train"
        )
        # Timed and dated from before the trigger is sent: the unit cannot start earlier, so a train that ran
        # its full course always measures at least its duration, and an estimate from this start is an upper
        # bound, however slow the replies.
        stamp = self.events.stamp()
        start = stamp[1]
        self._disarm_seen = None
        try:
            self._transact(codec.set_mode("fire"))
        except RejectedError:
            raise  # the unit answered no: nothing began
        except DeviceError as exc:  # no answer: the unit may have heard the trigger and begun the train
            self._end_train(self._begin_train(protocol, stamp), protocol, start, self._stopped_by(exc), str(exc))
            raise
        record = self._begin_train(protocol, stamp)
        try:
            while True:
                self._clock.sleep(self.train_poll_s)
                self._poll()
                if not self.last_rapid or not self.last_rapid.train:
                    break
        except DeviceError as exc:
            self._end_train(record, protocol, start, self._stopped_by(exc), str(exc))
            raise
        stopped = self._clock.monotonic()  # after the reply that showed the train over
        done = stopped - start >= protocol.train_duration_s - 1e-6
        self._end_train(record, protocol, start, stopped, None if done else "train ended early")
        return record

    def _begin_train(self, protocol: TrainProtocol, stamp: tuple[datetime, float]) -> TrainRecord:
        self._train_number += 1
        record = TrainRecord(self._train_number, protocol.pulses_per_train, started_at=stamp[0])
        self._last_record = record
        self.events.emit(TrainStarted, stamp, train=record.train, planned_pulses=record.planned_pulses)
        return record

    def _stopped_by(self, exc: DeviceError) -> float | None:
        """A clock time by which the unit had certainly stopped a train an error cut short, or None.

        A reply that showed it disarmed tells; else a disarm confirmed now (which stops a train); else, the line
        being silent, the unit's watchdog, counted from the last command it may have heard.
        """
        if self._disarm_seen is not None:
            return self._disarm_seen
        if not isinstance(exc, Disconnected) and self.disarm_unconfirmed is None:
            try:
                self._disarm_now()
                return self._clock.monotonic()
            except DeviceError:
                pass  # failed closed: the unit's watchdog ends it
        watchdog = self._watchdog_s()
        return None if watchdog is None else self._last_tx + watchdog + WATCHDOG_MARGIN_S

    def _end_train(
        self,
        record: TrainRecord,
        protocol: TrainProtocol,
        start: float,
        stopped: float | None,
        reason: str | None,
    ) -> None:
        """Close a train: all its pulses when it ran its course; else, flagged estimated, every pulse its rate fits
        between the moment before its trigger and ``stopped`` (the first at the start), or all of them when
        nothing tells when it stopped. An upper bound: a resume budgeted on it never exceeds the prescription."""
        record.completed = reason is None
        if record.completed or stopped is None:
            record.delivered_pulses = protocol.pulses_per_train
        else:
            record.delivered_pulses = min(
                protocol.pulses_per_train, math.floor(max(0.0, stopped - start) * protocol.frequency_hz) + 1
            )
        record.estimated = not record.completed
        record.ended_at = self._clock.now()
        self.total_pulses += record.delivered_pulses
        self.events.emit(
            PulsesDelivered, count=record.delivered_pulses, total=self.total_pulses, train=record.train
        )
        self.events.emit(
            TrainEnded,
            train=record.train,
            delivered_pulses=record.delivered_pulses,
            completed=record.completed,
            estimated=record.estimated,
            reason=reason,
        )

    def _run_trains(self, protocol: TrainProtocol, report: DeliveryReport, stop: threading.Event) -> None:
        auto_disarm = self.profile.auto_disarm_s
        pause_disarmed = protocol.inter_train_interval_s > auto_disarm - 5  # avoid the 60 s auto-disarm
        for index in range(protocol.trains):
            if stop.is_set():
                report.reason = "stopped by the operator"
                return
            if not self._armed:
                self._arm()
                self._armed = True
            try:
                record = self._deliver_train(protocol)
            except StoppedAtDevice as exc:
                report.reason = str(exc)
                if self._last_record is not None:
                    report.trains.append(self._last_record)
                    report.delivered_pulses += self._last_record.delivered_pulses
                return
            report.trains.append(record)
            report.delivered_pulses += record.delivered_pulses
            if not record.completed:
                report.reason = "train interrupted"
                return
            if index + 1 == protocol.trains or report.delivered_pulses >= protocol.total_pulses:
                return
            if pause_disarmed:
                self._disarm_confirmed()
            if not self._wait(protocol.inter_train_interval_s, stop):
                report.reason = "stopped by the operator"
                return

    def _observe(
        self, report: DeliveryReport, stop: threading.Event, timeout_s: float | None, idle_timeout_s: float
    ) -> None:
        self._disarm_confirmed()
        self._release()  # the technician drives the unit; we only read (no remote needed for \@)
        start = self._clock.monotonic()
        watcher = _TrainWatcher(self, report)
        while True:
            stamp = self.events.stamp()  # taken before the poll is sent: the unit's answer is no older
            now = stamp[1]
            if stop.is_set():
                report.reason = "stopped by the operator"
                break
            if timeout_s is not None and now - start >= timeout_s:
                report.reason = "timed out"
                break
            if watcher.last_end is not None and now - watcher.last_end >= idle_timeout_s:
                report.reason = "no further trains"
                break
            watcher.observe(self._parameters(), stamp)
            if report.planned_pulses is not None and report.delivered_pulses >= report.planned_pulses:
                break
            self._clock.sleep(self.train_poll_s)
        report.completed = (
            report.planned_pulses is not None and report.delivered_pulses >= report.planned_pulses
        )


class _TrainWatcher:
    """Record mode: turns successive ``\\`` replies into train start/end events."""

    def __init__(self, driver: Rapid2Driver, report: DeliveryReport) -> None:
        self.driver = driver
        self.report = report
        self.last_end: float | None = None
        self._start = 0.0  # when a poll first found the train running
        self._began = 0.0  # no later than the unit began it
        self._idle: tuple[datetime, float] | None = None  # when the last poll that found no train was sent
        self._protocol: TrainProtocol | None = None
        self._record: TrainRecord | None = None

    def observe(self, params: RapidParameters, stamp: tuple[datetime, float]) -> None:
        """Feed one parameter reply to a poll sent at ``stamp`` (wall, monotonic)."""
        d = self.driver
        now = stamp[1]
        if params.rapid.train and self._record is None:
            d._train_number += 1
            self._protocol = TrainProtocol(params.power, params.frequency_hz or 1.0, params.pulses, 1, 0.0)
            # The train began after the last poll that found none; running at the first poll, it began at
            # most its programmed duration ago.
            began = self._idle or (stamp[0] - timedelta(seconds=params.duration_s), now - params.duration_s)
            self._record = TrainRecord(d._train_number, params.pulses, started_at=began[0])
            self._start, self._began = now, began[1]
            d.events.emit(TrainStarted, began, train=self._record.train, planned_pulses=params.pulses)
        elif not params.rapid.train:
            self._idle = stamp
            if self._record is not None and self._protocol is not None:
                self._end(self._record, self._protocol, params, now)

    def _end(self, record: TrainRecord, protocol: TrainProtocol, params: RapidParameters, now: float) -> None:
        done = now - self._start >= params.duration_s - self.driver.train_poll_s
        stopped = self.driver._clock.monotonic()  # after the reply that showed the train over
        self.driver._end_train(record, protocol, self._began, stopped, None if done else "train ended early")
        self.report.trains.append(record)
        self.report.delivered_pulses += record.delivered_pulses
        self._record, self.last_end = None, now
