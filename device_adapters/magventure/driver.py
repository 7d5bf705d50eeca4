"""MagVenture MagPro R30/X100 driver: binary frames at 38400, no remote-control session.

Facts (docs/device-protocols.md §2.4–2.5): the unit pushes messages of its own (di/dt after every pulse, page and
train start/stop, amplitude and coil changes from the front panel), so every read goes through one
dispatcher that updates the state and emits events; replies are recognised by type and content,
never by position. Before each request whatever has arrived is dispatched (so it can never be taken as
the answer), and a reply that misses its deadline is discarded when it comes (``late_replies.py``).
The unit must be enabled before it fires.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from config.device_profiles import DeviceProfile
from device_adapters.clock import Clock
from device_adapters.errors import CoilFault, DeviceTimeout, InterlockError, ParameterMismatch, StateRejected
from device_adapters.events import (
    CoilTemperature,
    ParametersChanged,
    PulsesDelivered,
    StateChanged,
    TrainEnded,
    TrainStarted,
)
from device_adapters.late_replies import LateReplies
from device_adapters.limits import check_magventure_train
from device_adapters.magventure import codec
from device_adapters.magventure.messages import (
    TIMING_PAGE,
    Amplitude,
    CoilInfo,
    DiDt,
    Message,
    PageCount,
    PageState,
    Status,
    Status2,
    Timing,
    WaveformBlock,
)
from device_adapters.stimulator import Stimulator
from device_adapters.transport import Transport
from device_adapters.values import (
    DeliveryReport,
    DeviceStatus,
    Identity,
    ProgrammedParameters,
    TrainProtocol,
    TrainRecord,
)

BURST_WAVEFORM, BIPHASIC = 3, 1
NO_COIL = 0  # coil type number the unit reports with no coil plugged in (our simulator's convention)


class MagVentureDriver(Stimulator):
    """MagPro driver; options: ``command_set`` ("pytms" IDs 0x0A/0x0B, or "magic" IDs 0x06/0x08)."""

    runs_protocol_alone = True  # one start, and the unit runs the sequence

    def __init__(self, transport: Transport, profile: DeviceProfile, clock: Clock, **options: Any) -> None:
        super().__init__(transport, profile, clock, **options)
        self.variant: str = options.get("command_set", "pytms")
        self.reply_timeout_s: float = options.get("reply_timeout_s", 1.5)
        self._splitter = codec.FrameSplitter()
        self._late: LateReplies[Message] = LateReplies(clock, options.get("late_reply_s", 2 * self.reply_timeout_s))
        self.enabled = False
        self.running = False
        self.page: int | None = None
        self.coil_temperature_c: int | None = None
        self.coil_type: int | None = None
        self.amplitude = (0, 0)
        self.timing: Timing | None = None
        self.waveform: WaveformBlock | None = None
        self.device_status: Status | None = None
        self._current: TrainRecord | None = None
        self._finished: list[TrainRecord] = []
        self._read_ended: tuple[datetime, float] | None = None  # when the last read that was dispatched ended
        self._expecting: set[type] = set()

    def connect(self) -> None:
        """Read status, timing and waveform so later changes can be told apart."""
        with self._lock:
            self._identify()
            self._request(codec.get_timing(), lambda m: isinstance(m, Timing))
            self._request(codec.get_waveform(self.variant), lambda m: isinstance(m, WaveformBlock))
        if self.options.get("reader_thread", True):
            self._start_service_thread()

    # ----- reading --------------------------------------------------------------------------------

    def _pump(self, deadline: float | None = None) -> list[Message]:
        """Dispatch what has arrived; with ``deadline``, first block until something does (or it passes)."""
        messages = []
        data = (
            self._transport.read_available()
            if deadline is None
            else self._transport.read_until(deadline, self._splitter.missing())
        )
        # What this read brought the unit sent after the last read ended (to within the line's latency): a train
        # it reports running began no earlier, which is the date its start takes (``_running``).
        ended = self.events.stamp()
        for frame in self._splitter.feed(data):
            if frame[0] != codec.START:
                continue  # stray bytes between frames (e.g. NULs): nothing to decode
            self._transport.note_rx(frame)
            try:
                message = codec.decode(frame)
            except codec.MagVentureChecksumError:
                raise  # a corrupted frame may have been a pulse: the count can no longer be trusted
            except codec.MagVentureCodecError:
                continue  # a lone 0xFE that did not start a frame
            self._on_message(message)
            messages.append(message)
        self._read_ended = ended
        return messages

    def _request(
        self,
        frame: bytes,
        wanted: Callable[[Message], bool],
        timeout: float | None = None,
        disarm: bool = False,
    ) -> Message:
        """Send ``frame``; return the first message after it that ``wanted`` accepts and that is not the
        late reply to an earlier, timed-out request (``late_replies.py``)."""
        with self._wire:
            self._may_send(disarm)
            for stale in self._pump():  # arrived before the request: dispatched, never its answer
                self._late.claim(stale)
            self._transport.write(frame)
            self._last_tx = sent = self._clock.monotonic()
            deadline = sent + (timeout or self.reply_timeout_s)
            while True:
                for message in self._pump(deadline):
                    if self._late.claim(message) is not None:
                        continue  # the late answer to an earlier request
                    if wanted(message):
                        self._late.settle()
                        return message
                if self._clock.monotonic() >= deadline:
                    self._late.owe(frame, wanted)
                    raise DeviceTimeout(
                        f"no answer to frame {frame.hex(' ')} by its deadline "
                        f"({timeout or self.reply_timeout_s:g} s; a late one will be discarded)"
                    )

    def _service(self) -> None:
        with self._wire:
            for message in self._pump():
                self._late.claim(message)

    def _disarm_timeout_s(self) -> float:
        return self.reply_timeout_s

    def _service_interval(self) -> float:
        return 0.05

    # ----- message dispatch -----------------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        mode_status = getattr(message, "mode_status", None)
        if mode_status is not None:
            self.enabled = mode_status.enabled
        if isinstance(message, Status | Status2):
            status = message if isinstance(message, Status) else message.status
            self.device_status = status
            self.enabled = status.mode_status.enabled
            self.amplitude = (status.amplitude_a, status.amplitude_b)
            self._coil(status.coil_temperature_c, status.coil_type)
        elif isinstance(message, DiDt):
            self._pulse(message)
        elif isinstance(message, CoilInfo):
            self._coil(message.coil_temperature_c, message.coil_type)
        elif isinstance(message, Amplitude):
            if (
                message.amplitude_a,
                message.amplitude_b,
            ) != self.amplitude and Amplitude not in self._expecting:
                self.events.emit(ParametersChanged, parameters={"intensity_a": message.amplitude_a})
            self.amplitude = (message.amplitude_a, message.amplitude_b)
        elif isinstance(message, PageState):
            self.page = message.page
            self._running(message.running)
        elif isinstance(message, Timing):
            if self.timing is not None and message != self.timing and Timing not in self._expecting:
                self.events.emit(ParametersChanged, parameters=self._timing_dict(message))
            self.timing = message
        elif isinstance(message, WaveformBlock):
            self.waveform = message

    def _coil(self, celsius: int, coil_type: int) -> None:
        if celsius != self.coil_temperature_c:
            self.events.emit(CoilTemperature, celsius=float(celsius))
        self.coil_temperature_c, self.coil_type = celsius, coil_type

    def _pulse(self, message: DiDt) -> None:
        self.total_pulses += 1
        train = None
        if self._current is not None:
            self._current.delivered_pulses += 1
            train = self._current.train
        self.events.emit(
            PulsesDelivered, count=1, total=self.total_pulses, train=train, di_dt=message.di_dt_a
        )

    def _running(self, running: bool) -> None:
        if running and self._current is None:
            self._train_number += 1
            began = self._read_ended or self.events.stamp()
            self._current = TrainRecord(self._train_number, self._planned_per_train(), started_at=began[0])
            self.events.emit(
                TrainStarted, began, train=self._current.train, planned_pulses=self._current.planned_pulses
            )
        elif not running and self._current is not None:
            self._end_train(None)
        self.running = running

    def _end_train(self, reason: str | None) -> None:
        record, self._current = self._current, None
        if record is None:
            return
        record.ended_at = self._clock.now()
        record.completed = record.delivered_pulses == record.planned_pulses
        reason = reason or (None if record.completed else "train ended early")
        self._finished.append(record)
        self.events.emit(
            TrainEnded,
            train=record.train,
            delivered_pulses=record.delivered_pulses,
            completed=record.completed,
            reason=reason,
        )

    def _planned_per_train(self) -> int | None:
        if self.timing is None:
            return None
        burst = (
            self.waveform.burst_pulses if self.waveform and self.waveform.waveform == BURST_WAVEFORM else 1
        )
        return self.timing.pulses_per_train * burst

    def _check_faults(self) -> None:
        if self.coil_type == NO_COIL:
            raise CoilFault("no coil is connected")
        if self.coil_temperature_c is not None and self.coil_temperature_c >= self.profile.coil_cutoff_c:
            raise CoilFault(
                f"coil temperature {self.coil_temperature_c} °C is at or above the "
                f"{self.profile.coil_cutoff_c:g} °C cut-off"
            )
        if self._armed and not self.enabled:
            self._armed = False
            raise InterlockError("the stimulator disabled itself (coil lifted or interlock at the unit)")

    # ----- queries and settings -------------------------------------------------------------------

    def _identify(self) -> Identity:
        status = self._request(codec.get_status(), lambda m: isinstance(m, Status))
        assert isinstance(status, Status)
        caps = self.profile.magventure
        assert caps is not None
        if status.mode_status.raw >> 5 != caps.model_code:
            raise ParameterMismatch(
                f"the unit reports model {status.mode_status.model}, not {self.profile.display_name}"
            )
        return Identity(
            self.model,
            "magventure",
            self.profile.display_name,
            serial_number=f"{status.serial_number:06X}",
            details={
                "coil_type": status.coil_type,
                "mode": status.mode_status.mode,
                "waveform": status.mode_status.waveform,
            },
        )

    def _status(self) -> DeviceStatus:
        status = self._request(codec.get_status(), lambda m: isinstance(m, Status))
        assert isinstance(status, Status)
        return DeviceStatus(
            armed=self.enabled,
            ready=self.enabled,
            coil_present=status.coil_type != NO_COIL,
            coil_temperature_c=float(status.coil_temperature_c),
            intensity_a=status.amplitude_a,
            intensity_b=status.amplitude_b,
            train_running=self.running,
        )

    def _set_intensity(self, percent: int, channel: str) -> None:
        self._expecting.add(Amplitude)
        try:
            self._request(
                codec.set_amplitude(percent, self.amplitude[1]),
                lambda m: isinstance(m, Amplitude) and m.amplitude_a == percent,
            )
        finally:
            self._expecting.discard(Amplitude)

    def _configure(self, protocol: TrainProtocol) -> None:
        check_magventure_train(self.profile, protocol)
        burst = protocol.burst_pulses > 1
        current = self._request(codec.get_waveform(self.variant), lambda m: isinstance(m, WaveformBlock))
        assert isinstance(current, WaveformBlock)
        if burst or current.waveform == BURST_WAVEFORM:
            ipi = (
                protocol.burst_ipi_ms
                if burst and protocol.burst_ipi_ms
                else codec.burst_ipi_ms(current.ipi_index)
            )
            frame = codec.set_waveform(
                current.model,
                current.mode,
                current.current_direction,
                BURST_WAVEFORM if burst else BIPHASIC,
                protocol.burst_pulses,
                ipi,
            )
            self._request(frame, lambda m: isinstance(m, WaveformBlock))
        stimuli = protocol.pulses_per_train // protocol.burst_pulses
        args = (protocol.frequency_hz, stimuli, protocol.trains, protocol.inter_train_interval_s)
        frame = codec.set_train_magic(*args) if self.variant == "magic" else codec.set_timing(*args)
        self._expecting.add(Timing)
        try:
            self._request(frame, lambda m: isinstance(m, Timing) and m.pulses_per_train == stimuli)
        finally:
            self._expecting.discard(Timing)

    def _stimulus_count(self) -> int | None:
        """ID 12 sub 0 → message 12, bytes 11-12: stimuli since power-on (pytms; docs/device-protocols.md §2.3-2.4).

        Only pytms documents ID 12; a unit spoken to with MAGIC's IDs is not sent a command it may not know
        (an unknown command can leave a MagPro deaf until restarted, docs/device-protocols.md §2.5).
        """
        if self.variant == "magic":
            return None
        reply = self._request(codec.get_page_count(), lambda m: isinstance(m, PageCount))
        assert isinstance(reply, PageCount)
        return reply.stimulus_count

    def _read_parameters(self) -> ProgrammedParameters:
        status = self._request(codec.get_status(), lambda m: isinstance(m, Status))
        timing = self._request(codec.get_timing(), lambda m: isinstance(m, Timing))
        wave = self._request(codec.get_waveform(self.variant), lambda m: isinstance(m, WaveformBlock))
        assert isinstance(status, Status) and isinstance(timing, Timing) and isinstance(wave, WaveformBlock)
        burst = wave.burst_pulses if wave.waveform == BURST_WAVEFORM else 1
        return ProgrammedParameters(
            intensity_a=status.amplitude_a,
            intensity_b=None,
            frequency_hz=timing.rate_tenths / 10,
            pulses_per_train=timing.pulses_per_train * burst,
            trains=timing.trains,
            inter_train_interval_s=timing.iti_tenths / 10,
            burst_pulses=burst,
            burst_ipi_ms=codec.burst_ipi_ms(wave.ipi_index) if burst > 1 else None,
        )

    @staticmethod
    def _timing_dict(timing: Timing) -> dict[str, Any]:
        return {
            "frequency_hz": timing.rate_tenths / 10,
            "stimuli_per_train": timing.pulses_per_train,
            "trains": timing.trains,
            "inter_train_interval_s": timing.iti_tenths / 10,
        }

    # ----- arm / fire / disarm --------------------------------------------------------------------

    def _arm(self) -> None:
        self._identify()
        self._check_faults()
        self._request(
            codec.set_enabled(True), lambda m: getattr(m, "mode_status", None) is not None and self.enabled
        )

    def _disarm(self, timeout: float | None = None) -> None:
        if self.running:
            self._end_train("stopped by the host")
        try:
            self._request(codec.set_enabled(False), _shows_disabled, timeout, disarm=True)
        except DeviceTimeout:
            # No answer we can bind to it: the unit's own status says whether it took the disable.
            reply = self._request(codec.get_status(), lambda m: isinstance(m, Status), timeout, disarm=True)
            if not _shows_disabled(reply):
                raise
        self._armed = False

    def _fire(self) -> int:
        if not self._armed:
            raise StateRejected("enable (arm) the stimulator before firing")
        before = self.total_pulses
        self._request(codec.fire(self.variant), lambda m: isinstance(m, DiDt))
        self._pump_for(0.1 + (self._burst_span_s()))  # the rest of a burst
        return self.total_pulses - before

    def _burst_span_s(self) -> float:
        if self.waveform and self.waveform.waveform == BURST_WAVEFORM:
            return self.waveform.burst_pulses * codec.burst_ipi_ms(self.waveform.ipi_index) / 1000
        return 0.0

    def _pump_for(self, seconds: float) -> None:
        deadline = self._clock.monotonic() + seconds
        while self._clock.monotonic() < deadline:
            self._pump()
            self._clock.sleep(0.01)

    # ----- control and record modes ---------------------------------------------------------------

    def _run_trains(self, protocol: TrainProtocol, report: DeliveryReport, stop: threading.Event) -> None:
        if not self._armed:
            self._arm()
            self._armed = True
            self.events.emit(StateChanged, state="ready")
        self._request(codec.set_page(TIMING_PAGE, self.variant), lambda m: isinstance(m, PageState))
        self._finished = []
        start_total = self.total_pulses
        self._transport.write(codec.start_train())
        silence_limit = protocol.train_duration_s + protocol.inter_train_interval_s + 5.0
        self._watch(
            report,
            stop,
            silence_limit,
            lambda: self.total_pulses - start_total >= protocol.total_pulses,
            protocol.trains,
            check_interlock=True,
        )
        report.delivered_pulses = self.total_pulses - start_total

    def _watch(
        self,
        report: DeliveryReport,
        stop: threading.Event,
        silence_limit: float,
        enough: Callable[[], bool],
        trains: int | None,
        check_interlock: bool,
        timeout_s: float | None = None,
        idle_timeout_s: float | None = None,
    ) -> None:
        """Pump messages until ``enough``, the device finished its trains, a stop, or silence."""
        start = last_activity = self._clock.monotonic()
        try:
            while True:
                if self._pump():
                    last_activity = self._clock.monotonic()
                self._check_faults() if check_interlock else self._check_coil_only()
                now = self._clock.monotonic()
                if enough():
                    self._settle(report)
                    return
                if trains is not None and len(self._finished) >= trains and not self.running:
                    return
                if stop.is_set():
                    report.reason = "stopped by the operator"
                    return
                if timeout_s is not None and now - start >= timeout_s:
                    report.reason = "timed out"
                    return
                if (
                    idle_timeout_s is not None
                    and self._finished
                    and not self.running
                    and now - last_activity >= idle_timeout_s
                ):
                    report.reason = "no further trains"
                    return
                if check_interlock and now - last_activity > silence_limit:
                    raise DeviceTimeout(
                        f"no message from the stimulator for {silence_limit:g} s during the protocol"
                    )
                self._clock.sleep(0.05)
        finally:
            report.trains = list(self._finished)
            if self._current is not None:
                report.trains.append(self._current)

    def _settle(self, report: DeliveryReport) -> None:
        """Prescribed count reached: let the unit close the train, else stop it ourselves."""
        deadline = self._clock.monotonic() + 0.5
        while self.running and self._clock.monotonic() < deadline:
            self._pump()
            self._clock.sleep(0.05)
        if self.running:
            self._disarm()
            report.reason = "stopped at the prescribed pulse count"

    def _check_coil_only(self) -> None:
        if self.coil_type == NO_COIL or (
            self.coil_temperature_c is not None and self.coil_temperature_c >= self.profile.coil_cutoff_c
        ):
            self._check_faults()

    def _observe(
        self, report: DeliveryReport, stop: threading.Event, timeout_s: float | None, idle_timeout_s: float
    ) -> None:
        params = report.parameters
        if report.planned_pulses is None and params and params.pulses_per_train and params.trains:
            report.planned_pulses = params.pulses_per_train * params.trains
        planned = report.planned_pulses
        self._finished = []
        start_total = self._record_from
        self._watch(
            report,
            stop,
            0.0,
            lambda: planned is not None and self.total_pulses - start_total >= planned,
            None,
            check_interlock=False,
            timeout_s=timeout_s,
            idle_timeout_s=idle_timeout_s,
        )
        report.delivered_pulses = self.total_pulses - start_total
        report.completed = planned is not None and report.delivered_pulses >= planned


def _shows_disabled(message: Message) -> bool:
    """The message itself (not driver state a stale message may have set) reports the unit disabled."""
    mode_status = getattr(message, "mode_status", None)
    return mode_status is not None and not mode_status.enabled
