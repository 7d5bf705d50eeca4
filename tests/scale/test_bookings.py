"""No double booking across processes: PostgreSQL's exclusion constraints decide, whichever process asks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time

from sqlmodel import Session, select

from service.models.bookings import Booking
from tests.builders.clinic import add_technician, ready_clinic
from tests.scale.cluster import Cluster, RemoteTenant, next_open_weekday


def test_twenty_requests_for_one_chair_slot_across_two_processes_make_one_booking(
    two: Cluster, clinic_staff: RemoteTenant,
) -> None:
    """20 patients, 20 technicians, one chair at one time: 10 requests to A and 10 to B, released together."""
    clinic = ready_clinic(clinic_staff)  # type: ignore[arg-type]  # the builders take any Tenant-like object
    day = next_open_weekday(datetime.now(UTC).date())
    start_at = datetime.combine(day, time(15, 0), tzinfo=UTC).isoformat()  # 10:00 or 11:00 in New York
    bodies = [{"course_id": clinic.course()["id"], "chair_id": clinic.chair_id,
               "technician_id": add_technician(clinic), "start_at": start_at} for _ in range(20)]
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[str, int, dict]] = []

    def attempt(i: int, body: dict) -> None:
        node = two.nodes[i % 2]
        with node.client(clinic_staff.tokens["technician"]) as client:
            client.get("/api/v1/health")  # connect first, so the barrier releases requests, not handshakes
            barrier.wait()
            r = client.post("/api/v1/bookings", json=body)
        results.append((node.name, r.status_code, r.json()))

    threads = [threading.Thread(target=attempt, args=(i, body)) for i, body in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for _, code, _ in results) == [201] + [409] * 19, results
    for _, code, body in results:
        if code == 409:
            error = body["error"]
            assert error["code"] == "double_booking", error
            assert error["details"]["resource"] in ("chair", "device"), error
            assert error["message"].startswith(f"{error['details']['resource']}_id: "), error
    with Session(two.engine) as s:
        held = s.exec(select(Booking).where(Booking.chair_id == clinic.chair_id)).all()
    assert len(held) == 1
    winner = next(body for _, code, body in results if code == 201)
    assert held[0].id == winner["id"]
