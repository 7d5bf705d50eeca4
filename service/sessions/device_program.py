"""From prescription to device program: the dose, the safety table, the device limits, the protocol the agent runs.

Refuse, never clamp: a dose outside the safety table without a signed override for the course, a dose
above the device's maximum output, a frequency or a burst the device cannot deliver, is refused here with
the limit in the message, before anything is sent to a chair. Preflight, start and resume all plan here,
so the program queued for the chair is the one the check passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from config.clinical_data import Protocol
from config.device_profiles import load_profile
from device_adapters.errors import LimitError
from device_adapters.limits import check_intensity, check_magventure_train, check_rapid_train
from device_adapters.values import TrainProtocol
from service.chairs import capabilities
from service.core.errors import Conflict
from service.models.courses import Course
from service.protocols import dose_gate
from service.rules import protocols


@dataclass(frozen=True)
class DevicePlan:
    output_pct_mso: int
    reasons: tuple[str, ...]
    train: TrainProtocol
    verdict: dose_gate.Verdict | None = None

    @property
    def override_id(self) -> int | None:
        """The signed override the dose is given under (None: within the table)."""
        o = self.verdict.override if self.verdict else None
        return o.id if o else None

    def payload(self) -> dict[str, Any]:
        t = self.train
        return {"intensity_percent": t.intensity_percent, "frequency_hz": t.frequency_hz,
                "pulses_per_train": t.pulses_per_train, "trains": t.trains,
                "inter_train_interval_s": t.inter_train_interval_s, "burst_pulses": t.burst_pulses,
                "burst_ipi_ms": t.burst_ipi_ms}


def train_for(protocol: Protocol, output_pct: int, trains: int | None = None) -> TrainProtocol:
    """The device program for a catalog protocol at ``output_pct`` % of machine output."""
    return capabilities.device_train(protocol, output_pct, trains)


def check_program(device_model: str, payload: dict[str, Any]) -> None:
    """Refuse a device program (a resume's trains) the device's limits do not allow, naming the limit."""
    if not device_model:
        return
    profile = load_profile(device_model)
    train = TrainProtocol(**payload)
    try:
        if profile.magventure is not None:
            check_magventure_train(profile, train)
        elif profile.rapid is not None:
            check_rapid_train(profile, train, firmware_major=8, supply="240", system="rapid")
    except LimitError as exc:
        raise Conflict(f"{profile.display_name} cannot deliver the remaining pulses as programmed: {exc}",
                       code="device_limit") from exc


def plan(session: Session, course: Course, device_model: str, intensity_pct_mt: float, mt_pct_mso: float,
         depth_adjusted_mt: float | None = None, trains: int | None = None) -> DevicePlan:
    """The one dose check (table, schedule, override, device output), then the train against the device profile.

    ``trains`` (a resumed session's remainder) shortens the program only: the table is judged on the whole
    prescribed schedule, the one a signed override names, of which the remainder is a part.
    """
    protocol = protocols.get(course.protocol_id)
    profile = load_profile(device_model)
    check = dose_gate.run(course, intensity_pct_mt, mt_pct_mso=mt_pct_mso, depth_adjusted_mt_pct_mso=depth_adjusted_mt,
                          device_max_pct=profile.max_output_percent)
    if check.device_refusal is not None or check.dose is None:
        message = check.device_refusal.message if check.device_refusal else "no output could be computed"
        raise Conflict(f"dose refused: {message}", code="dose_refused", details={"field": "intensity_pct_mt"})
    verdict = dose_gate.require(session, course, check)
    dose = check.dose
    train = train_for(protocol, int(dose.output_pct_mso), trains)
    try:
        check_intensity(profile, train.intensity_percent)
        if profile.magventure is not None:
            check_magventure_train(profile, train)
        elif profile.rapid is not None:
            # The strictest case (oldest firmware, default supply); the driver checks again with the real ones.
            check_rapid_train(profile, train, firmware_major=8, supply="240", system="rapid")
        elif train.trains * train.pulses_per_train > 1 and not profile.supports_trains:
            raise LimitError(f"{profile.display_name} delivers single pulses only; this protocol needs trains")
    except LimitError as exc:
        raise Conflict(f"{profile.display_name} cannot deliver this protocol: {exc}", code="device_limit") from exc
    return DevicePlan(train.intensity_percent, dose.reasons, train, verdict)
