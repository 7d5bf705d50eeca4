"""Which protocols a device can run, derived from its model's capabilities and the protocol's pattern."""

from __future__ import annotations

from config.clinical_data import Protocol
from config.device_capabilities import device_capabilities
from service.rules import protocols


def why_not(model: str, protocol: Protocol) -> str | None:
    """Why a device of this model cannot run the protocol, or None when it can."""
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


def protocols_for(model: str) -> frozenset[str]:
    """Ids of the catalog protocols a device of this model can run."""
    return frozenset(p.id for p in protocols.catalog() if why_not(model, p) is None)


def known_models() -> list[str]:
    """Every device model in the capability table."""
    return sorted(device_capabilities().models)
