"""Serial drivers for TMS stimulators (standalone: imports only ``config``, pyserial and the stdlib).

with open_stimulator("sim://magstim-rapid2", "magstim-rapid2") as stim:
    stim.set_intensity(60)
    stim.configure_train(10, 50, 60, 25)
    report = stim.run_protocol()
"""

from __future__ import annotations

from typing import Any

from config.device_profiles import available_models, load_profile
from device_adapters.clock import Clock, ScaledClock, SystemClock
from device_adapters.errors import (
    ChecksumError,
    CodecError,
    CoilFault,
    CommandRejected,
    DataRejected,
    DeviceError,
    DeviceFault,
    DeviceTimeout,
    DisarmUnconfirmed,
    Disconnected,
    FrameRecord,
    InterlockError,
    LimitError,
    ParameterMismatch,
    RejectedError,
    RemoteControlLost,
    StateRejected,
    StoppedAtDevice,
)
from device_adapters.events import (
    CoilTemperature,
    DeliveryEvent,
    Fault,
    Listener,
    ParametersChanged,
    PulsesDelivered,
    StateChanged,
    TrainEnded,
    TrainStarted,
)
from device_adapters.magstim.rapid import Rapid2Driver
from device_adapters.magstim.single import BiStimDriver, Magstim200Driver
from device_adapters.magventure.driver import MagVentureDriver
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

DRIVERS: dict[str, type[Magstim200Driver] | type[Rapid2Driver] | type[MagVentureDriver]] = {
    "magstim-200": Magstim200Driver,
    "magstim-bistim": BiStimDriver,
    "magstim-rapid2": Rapid2Driver,
    "magventure-r30": MagVentureDriver,
    "magventure-x100": MagVentureDriver,
}


def open_stimulator(
    url: str, model: str, *, clock: Clock | None = None, on_event: Listener | None = None, **options: Any
) -> Stimulator:
    """Open ``url`` (a device path, ``socket://``, ``sim://``…) as ``model`` and connect.

    Options: ``unlock_code`` (Rapid² from V9), ``supply_voltage``/``system`` (Rapid² limits),
    ``command_set`` ("pytms"/"magic", MagVenture), ``reply_timeout_s``, ``keepalive_thread``.
    ``on_event`` is subscribed before connecting, so it sees every event from ``seq`` 1.
    """
    if model not in DRIVERS:
        raise ValueError(f"unknown stimulator model {model!r}; known: {', '.join(sorted(DRIVERS))}")
    profile = load_profile(model)
    clock = clock or SystemClock()
    transport = Transport(url, profile.serial, clock)
    driver = DRIVERS[model](transport, profile, clock, **options)
    if on_event is not None:
        driver.subscribe(on_event)
    try:
        driver.connect()
    except BaseException:
        driver.close()
        raise
    return driver


__all__ = [
    "ChecksumError",
    "Clock",
    "CodecError",
    "CoilFault",
    "CoilTemperature",
    "CommandRejected",
    "DataRejected",
    "DeliveryEvent",
    "DeliveryReport",
    "DeviceError",
    "DeviceFault",
    "DeviceStatus",
    "DeviceTimeout",
    "DisarmUnconfirmed",
    "Disconnected",
    "Fault",
    "FrameRecord",
    "Identity",
    "InterlockError",
    "LimitError",
    "ParameterMismatch",
    "ParametersChanged",
    "ProgrammedParameters",
    "PulsesDelivered",
    "RejectedError",
    "RemoteControlLost",
    "ScaledClock",
    "StateChanged",
    "StateRejected",
    "Stimulator",
    "StoppedAtDevice",
    "SystemClock",
    "TrainEnded",
    "TrainProtocol",
    "TrainRecord",
    "TrainStarted",
    "available_models",
    "open_stimulator",
]
