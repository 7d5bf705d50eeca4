"""The live progress figures: time left follows the pulses of the current train, and the coil temperature falls
back to the hottest the device reported when the chair's heartbeat has none."""

from __future__ import annotations

from datetime import datetime

from service.models.sessions import ChairStatus, TreatmentSession
from service.sessions.progress import _progress

T = datetime(2030, 1, 7, 9, 0)


def _delivering(**fields: object) -> TreatmentSession:
    base: dict[str, object] = dict(
        clinic_id=1, patient_id=1, course_id=1, booking_id=1, chair_id=1, status="delivering", session_number=1,
        protocol_id="hf10_3000_iti26", frequency_hz=10.0, pulses_per_train=40, trains_planned=75, iti_s=26.0,
        pulses_planned=3000, trains_delivered=0, pulses_delivered=0, live_pulses=0, max_coil_temp_c=None)
    return TreatmentSession(**(base | fields))


def test_time_left_counts_down_through_a_train_and_its_interval() -> None:
    before = _progress(_delivering(), None)["seconds_left"]
    assert before == 75 * 4 + 74 * 26
    half = _progress(_delivering(current_train=1, live_pulses=20), None)["seconds_left"]
    assert half == 2 + 74 * 30
    ended = _progress(_delivering(trains_delivered=1, pulses_delivered=40, live_pulses=40), None)["seconds_left"]
    assert ended == 74 * 30  # the interval after train 1 is still to come
    assert before > half > ended


def test_coil_temperature_falls_back_to_the_sessions_hottest_reading() -> None:
    chair = ChairStatus(chair_id=1, clinic_id=1, seen_at=T, connected=True, coil_temp_c=None)
    assert _progress(_delivering(max_coil_temp_c=29.5), chair)["coil_temp_c"] == 29.5
    chair.coil_temp_c = 31.0
    assert _progress(_delivering(max_coil_temp_c=29.5), chair)["coil_temp_c"] == 31.0
    assert _progress(_delivering(), None)["coil_temp_c"] is None
