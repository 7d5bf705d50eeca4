"""Each booked session of a course, delivered parameters beside the prescription, deviations named.

Shared by the course page and the CSV export, so both show the same deviations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.documents.record import CourseRecord
from service.models.sessions import TreatmentSession

# Below this, a delivered frequency differs from the prescription (device read-back is reported to 0.1 Hz).
FREQ_TOLERANCE_HZ = 0.05


@dataclass
class SessionRow:
    sequence: int
    local_start: datetime
    booking_status: str
    session_id: int | None = None
    status: str | None = None
    cpt_code: str | None = None
    protocol_id: str | None = None
    frequency_hz: float | None = None
    intensity_pct_mt: float | None = None
    mt_pct_mso: float | None = None
    output_pct_mso: int | None = None
    pulses_planned: int | None = None
    pulses_delivered: int | None = None
    trains_planned: int | None = None
    trains_delivered: int | None = None
    max_coil_temp_c: float | None = None
    technician: str = "—"
    end_reason: str | None = None
    deviations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__ | {"deviations": "; ".join(self.deviations)}


def deviations(record: CourseRecord, ts: TreatmentSession) -> list[str]:
    """What was delivered differently from the prescription, in words."""
    out: list[str] = []
    if ts.status not in ("completed", "interrupted"):
        return out
    if ts.pulses_planned is not None and ts.pulses_delivered < ts.pulses_planned:
        out.append(f"{ts.pulses_planned - ts.pulses_delivered} of {ts.pulses_planned} pulses not delivered")
    if ts.protocol_id and ts.protocol_id != record.course.protocol_id:
        out.append(f"protocol {ts.protocol_id}, prescribed {record.course.protocol_id}")
    if ts.intensity_pct_mt is not None and ts.intensity_pct_mt != record.course.intensity_pct_mt:
        out.append(f"intensity {ts.intensity_pct_mt:g}% MT, prescribed {record.course.intensity_pct_mt:g}%")
    proto = record.protocol
    freq = ts.frequency_hz
    want = getattr(proto, "frequency_hz", None)  # burst protocols state their rate per burst, not per train
    if want is not None and freq is not None and abs(freq - want) > FREQ_TOLERANCE_HZ:
        out.append(f"{freq:g} Hz, prescribed {want:g} Hz")
    out += _readback(ts)
    if ts.interruptions:
        out.append(f"interrupted {len(ts.interruptions)}×")
    return out


def _readback(ts: TreatmentSession) -> list[str]:
    """The device's read-back of its program against the computed output."""
    programmed = ts.programmed or {}
    out = []
    read = programmed.get("intensity_a")
    if isinstance(read, int | float) and ts.output_pct_mso is not None and round(read) != ts.output_pct_mso:
        out.append(f"device read back {read:g}% MSO, computed {ts.output_pct_mso}%")
    freq = programmed.get("frequency_hz")
    want = ts.frequency_hz
    if isinstance(freq, int | float) and want is not None and abs(freq - want) > FREQ_TOLERANCE_HZ:
        out.append(f"device read back {freq:g} Hz, computed {want:g} Hz")
    return out


def rows(record: CourseRecord) -> list[SessionRow]:
    """One row per booking, in course order, with the session's delivered values when there is one."""
    tz = ZoneInfo(record.clinic.timezone)
    out = []
    for b in record.bookings:
        row = SessionRow(sequence=b.sequence, local_start=b.start_at.astimezone(tz) if b.start_at.tzinfo
                         else b.start_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz), booking_status=b.status)
        ts = record.sessions.get(b.id or 0)
        if ts is not None:
            row.session_id, row.status, row.cpt_code, row.protocol_id = ts.id, ts.status, ts.cpt_code, ts.protocol_id
            row.frequency_hz, row.intensity_pct_mt = ts.frequency_hz, ts.intensity_pct_mt
            row.mt_pct_mso, row.output_pct_mso = ts.mt_pct_mso, ts.output_pct_mso
            row.pulses_planned, row.pulses_delivered = ts.pulses_planned, ts.pulses_delivered
            row.trains_planned, row.trains_delivered = ts.trains_planned, ts.trains_delivered
            row.max_coil_temp_c, row.end_reason = ts.max_coil_temp_c, ts.end_reason
            row.technician = record.user_name(ts.technician_id)
            row.deviations = deviations(record, ts)
        out.append(row)
    return out


def counts(record: CourseRecord) -> dict[str, int]:
    """Planned, delivered, interrupted, missed (no-show), cancelled and still booked sessions."""
    by = [b.status for b in record.bookings]
    # Delivered counts interrupted sessions too (pulses were given; docs/billing.md); "interrupted" is their share.
    return {"planned": record.planned_sessions, "delivered": by.count("completed") + by.count("interrupted"),
            "interrupted": by.count("interrupted"), "missed": by.count("no_show"), "cancelled": by.count("cancelled"),
            "booked": sum(by.count(s) for s in ("booked", "checked_in", "in_progress"))}
