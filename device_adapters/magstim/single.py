"""Magstim 200² and BiStim²: single pulses (or paired pulses on a BiStim), no trains over serial."""

from __future__ import annotations

import threading

from device_adapters.errors import LimitError
from device_adapters.magstim import codec
from device_adapters.magstim.driver import MagstimDriver
from device_adapters.magstim.replies import Parameters, SystemMode
from device_adapters.values import (
    DeliveryReport,
    DeviceStatus,
    Identity,
    ProgrammedParameters,
    TrainProtocol,
)


class Magstim200Driver(MagstimDriver):
    """Magstim 200² (TDb086)."""

    def _parameters(self) -> Parameters:
        reply = self._transact(codec.query("J"))
        assert isinstance(reply, Parameters)
        return reply

    def _identify(self) -> Identity:
        params = self._parameters()
        return Identity(
            self.model, "magstim", self.profile.display_name, details={"status": params.status.raw}
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
            intensity_a=params.power_a,
            intensity_b=params.power_b if "B" in self.profile.channels else None,
        )

    def _set_intensity(self, percent: int, channel: str) -> None:
        self._ensure_remote()
        self._transact(codec.set_power(percent, channel))

    def _read_parameters(self) -> ProgrammedParameters:
        params = self._parameters()
        power_b = params.power_b if "B" in self.profile.channels else None
        return ProgrammedParameters(intensity_a=params.power_a, intensity_b=power_b)

    def _no_trains(self) -> LimitError:
        return LimitError(f"{self.profile.display_name} delivers single pulses only; it cannot run trains")

    def _configure(self, protocol: TrainProtocol) -> None:
        raise self._no_trains()

    def _fire(self) -> int:
        return self._fire_single()

    def _run_trains(self, protocol: TrainProtocol, report: DeliveryReport, stop: threading.Event) -> None:
        raise self._no_trains()

    def _observe(
        self, report: DeliveryReport, stop: threading.Event, timeout_s: float | None, idle_timeout_s: float
    ) -> None:
        raise LimitError(f"{self.profile.display_name} does not report pulses fired at its panel")


class BiStimDriver(Magstim200Driver):
    """BiStim² (TDb086): two outputs, inter-pulse interval, high-resolution timing."""

    high_resolution = False

    def _identify(self) -> Identity:
        identity = super()._identify()
        reply = self._transact(codec.query("X"))
        assert isinstance(reply, SystemMode)
        return Identity(
            identity.model,
            identity.family,
            identity.display_name,
            details={**identity.details, "system_mode": reply.mode},
        )

    def set_pulse_interval(self, milliseconds: float, high_resolution: bool = False) -> None:
        """Paired-pulse interval: 0–999 ms, or 0–99.9 ms in 0.1 ms steps with high resolution; 0 = simultaneous."""
        bistim = self.profile.bistim
        assert bistim is not None
        limit = bistim.max_interval_high_res_ms if high_resolution else bistim.max_interval_low_res_ms
        if not 0 <= milliseconds <= limit:
            raise LimitError(f"interval {milliseconds:g} ms exceeds the maximum of {limit:g} ms")
        units = round(milliseconds * 10) if high_resolution else round(milliseconds)
        if abs(units - (milliseconds * 10 if high_resolution else milliseconds)) > 1e-6:
            raise LimitError(
                f"interval {milliseconds:g} ms is not a multiple of the {'0.1' if high_resolution else '1'} ms step"
            )
        with self._lock:
            self._ensure_remote()
            if high_resolution != self.high_resolution:
                self._transact(codec.query("Y" if high_resolution else "Z"))
                self.high_resolution = high_resolution
            self._transact(codec.set_pulse_interval(units))
