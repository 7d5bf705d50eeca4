"""Which protocols a chair can run: its device model's capabilities, and what the driver can program in its mode.

The one source for booking, planning and start. The capability table says what the hardware can deliver
(a Rapid² delivers theta burst from its own console); the driver's limits say what the agent can program
over the serial link, which it does from the prescription in both chair modes (control: it also starts the
trains; record: the technician starts them at the unit). A protocol the driver refuses at every output
cannot be programmed at that chair, whatever the table says.
"""

from __future__ import annotations

from config.clinical_data import Protocol
from config.device_capabilities import device_capabilities
from config.device_profiles import available_models, load_profile
from device_adapters.errors import LimitError
from device_adapters.limits import check_magventure_train, check_rapid_train
from device_adapters.values import TrainProtocol
from service.rules import protocols

MODES = ("control", "record")


def device_train(protocol: Protocol, output_pct: int, trains: int | None = None) -> TrainProtocol:
    """The device program for a catalog protocol at ``output_pct`` % of machine output (the one shape that the
    capability check and the session's device program both use)."""
    burst = protocol.burst
    return TrainProtocol(
        intensity_percent=output_pct,
        frequency_hz=burst.burst_rate_hz if burst else float(protocol.frequency_hz or 0),
        pulses_per_train=protocol.pulses_per_train,
        trains=trains if trains is not None else protocol.trains,
        inter_train_interval_s=protocol.iti_s,
        burst_pulses=burst.pulses_per_burst if burst else 1,
        burst_ipi_ms=round(1000 / burst.burst_frequency_hz, 3) if burst else None,
    )


def why_not(model: str, protocol: Protocol, mode: str = "control") -> str | None:
    """Why a chair with a device of this model, in this mode, cannot run the protocol, or None when it can."""
    return _hardware_why_not(model, protocol) or _programming_why_not(model, protocol, mode)


def _programming_why_not(model: str, protocol: Protocol, mode: str) -> str | None:
    """The driver's own limits at the lowest output: what no dose can make programmable."""
    if model not in available_models():
        return None
    profile = load_profile(model)
    train = device_train(protocol, 10)  # 10 %: the lowest output the energy table gives
    try:
        if profile.magventure is not None:
            check_magventure_train(profile, train)
        elif profile.rapid is not None:
            check_rapid_train(profile, train, firmware_major=9, supply="240", system="super_plus")
    except LimitError as exc:
        return f"{profile.display_name} cannot be programmed for {protocol.id} over serial in {mode} mode: {exc}"
    return None


def _hardware_why_not(model: str, protocol: Protocol) -> str | None:
    cap = device_capabilities().models.get(model)
    if cap is None:
        return f"device model {model!r} is not in the capability table"
    if protocol.coil not in cap.coils:
        return f"{model} has no {protocol.coil} coil (protocol {protocol.id} needs one)"
    if not cap.repetitive:
        return f"{model} delivers single or paired pulses only, not repetitive trains"
    if protocol.pattern == "theta_burst" and not cap.theta_burst:
        return f"{model} cannot deliver theta-burst stimulation"
    if protocol.frequency_hz is not None and protocol.frequency_hz > cap.max_rate_hz:
        return f"{model} reaches {cap.max_rate_hz:g} Hz; protocol {protocol.id} needs {protocol.frequency_hz:g} Hz"
    return None


def protocols_for(model: str, mode: str = "control") -> frozenset[str]:
    """Ids of the catalog protocols a chair with a device of this model can run in this mode."""
    return frozenset(p.id for p in protocols.catalog() if why_not(model, p, mode) is None)


def known_models() -> list[str]:
    """Every device model in the capability table."""
    return sorted(device_capabilities().models)
