"""The clinic `bench.load` works in: staff accounts, booking lanes, patients with courses, chairs mid-session.

Built through the API where a clinic would do it (calendar, shifts, chairs, patients, courses, adverse events),
and through the service's own fixtures for the chairs whose sessions are already delivering (the clinical path
to a start is not what is measured here). Nothing here is timed.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx

import service.models  # noqa: F401  (every table, so foreign keys resolve)
from config.settings import Settings
from service.audit.service import SYSTEM
from service.auth.passwords import Passwords
from service.clinics import service as clinics
from service.core.db import make_engine, session_scope
from service.models.users import Role
from service.users import service as users
from service.users.schemas import UserCreate
from tests.builders.delivery import delivery_world

PASSWORD = "bench password 123"
TZ = ZoneInfo("America/New_York")  # the clinic's default time zone
LANES = 4  # chairs, each with its own technician, that bookings are spread over
SLOT = timedelta(minutes=15)  # iTBS 600 (3 min 10 s) + 10 min set-up buffer, rounded up
SLOTS_PER_LANE = 40  # 08:00-18:00
PROTOCOL = "itbs_600"
WRITE = {"X-Requested-With": "bench"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.status_code} "
                           f"{response.text[:300]}")
    return response.json()


@dataclass
class World:
    clinic_id: int
    tokens: dict[str, str]  # "admin", "agent", "tech-0".., "psych-0"..
    lane_chairs: list[int]
    lane_techs: list[int]
    patients: list[int]
    courses: list[int]
    adverse_events: list[int]
    sessions: list[int]  # one per streaming chair, 'delivering'
    chairs: list[int]  # the streaming chairs
    days: list[date]  # open weekdays bookings go to
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_booking(self) -> dict[str, Any]:
        """A booking no other can clash with: lane, time and patient follow from a counter.

        Each day holds ``min(patients, lanes × 40)`` bookings; a patient appears once a day (the protocol's daily
        limit), a lane's chair and technician once per 15-minute slot.
        """
        with self._lock:
            k, self._next = self._next, self._next + 1
        per_day = min(len(self.patients), LANES * SLOTS_PER_LANE)
        day, r = divmod(k, per_day)
        if day >= len(self.days):
            raise RuntimeError("the bench world ran out of booking days: give more --patients")
        lane, slot = r % LANES, r // LANES
        start = datetime.combine(self.days[day], time(8, 0), tzinfo=TZ) + slot * SLOT
        return {"course_id": self.courses[r], "chair_id": self.lane_chairs[lane],
                "technician_id": self.lane_techs[lane], "start_at": start.astimezone(UTC).isoformat()}


def open_days(count: int) -> list[date]:
    """The next ``count`` Monday-Friday dates after today that are no Massachusetts public holiday."""
    today = datetime.now(TZ).date()
    public = holidays.country_holidays("US", subdiv="MA", years=range(today.year, today.year + 3))
    days: list[date] = []
    day = today
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in public:
            days.append(day)
    return days


def _accounts(url: str, technicians: int, psychiatrists: int) -> tuple[int, dict[str, tuple[str, int]]]:
    """Clinic and accounts straight in the database (as `tmsops create-user` does); name -> (username, id)."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex[:6]
    wanted = [("admin", Role.admin), ("agent", Role.agent), ("deliver", Role.technician)]
    wanted += [(f"tech-{i}", Role.technician) for i in range(technicians)]
    wanted += [(f"psych-{i}", Role.psychiatrist) for i in range(psychiatrists)]
    passwords = Passwords(Settings(database_url=url))
    out: dict[str, tuple[str, int]] = {}
    with session_scope(engine) as s:
        clinic = clinics.get_or_create(s, SYSTEM, f"Load Bench {suffix}", now)
        for name, role in wanted:
            username = f"{name}-{suffix}"
            user = users.create(s, SYSTEM, passwords, clinic.id or 0,
                                UserCreate(username=username, display_name=name, role=role, password=PASSWORD), now)
            out[name] = (username, user.id or 0)
    engine.dispose()
    return clinic.id or 0, out


def build(url: str, base: str, *, chairs: int, technicians: int, psychiatrists: int, patients: int) -> World:
    """Set the clinic up through ``base`` (one of the service processes) and the database at ``url``."""
    clinic_id, accounts = _accounts(url, max(technicians, LANES), psychiatrists)
    tokens = {name: ok(httpx.post(f"{base}/api/v1/auth/token", timeout=60,
                                  data={"username": username, "password": PASSWORD}))["access_token"]
              for name, (username, _) in accounts.items()}

    def client(name: str) -> httpx.Client:
        return httpx.Client(base_url=base, timeout=60, headers=WRITE | {"Authorization": f"Bearer {tokens[name]}"})

    admin, tech, psych = client("admin"), client("tech-0"), client("psych-0")
    hours = [{"weekday": d, "open": "08:00", "close": "18:00"} for d in range(5)]
    ok(admin.put("/api/v1/calendar", json={"reason": "opening hours", "hours": hours, "setup_buffer_minutes": 10,
                                           "country": "US", "subdivision": "MA"}))
    lane_techs = [accounts[f"tech-{i}"][1] for i in range(LANES)]
    lane_chairs = []
    for i, user_id in enumerate(lane_techs):
        shifts = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(5)]
        r = admin.put(f"/api/v1/calendar/shifts/{user_id}", json={"reason": "weekly rota", "shifts": shifts})
        if r.status_code != 204:
            raise RuntimeError(f"shifts: {r.status_code} {r.text[:300]}")
        device = ok(admin.post("/api/v1/devices", json={
            "model": "magventure-x100", "serial": f"L-{uuid.uuid4().hex[:8]}", "coil_model": "Cool-B65"}), 201)
        lane_chairs.append(ok(admin.post("/api/v1/chairs", json={"name": f"Lane {i}", "device_id": device["id"]}),
                              201)["id"])

    def patient(i: int) -> tuple[int, int, int]:
        p = ok(tech.post("/api/v1/patients", json={
            "mrn": f"L-{uuid.uuid4().hex[:10]}", "family_name": "Load", "given_name": f"P{i}",
            "date_of_birth": "1975-05-05", "sex": "female", "primary_diagnosis": "F33.2"}), 201)
        c = ok(psych.post("/api/v1/courses", json={"patient_id": p["id"], "protocol_id": PROTOCOL,
                                                   "intensity_pct_mt": 120,
                                                   "eligibility_exception": {"basis": "self_pay",
                                                                             "reason": "self-pay, load bench"}}), 201)
        ae = ok(tech.post(f"/api/v1/patients/{p['id']}/adverse-events", json={
            "course_id": c["id"], "term": "headache", "grade": 1,
            "onset_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}), 201)
        return int(p["id"]), int(c["id"]), int(ae["id"])

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(patient, range(patients)))
    for c in (admin, tech, psych):
        c.close()
    engine = make_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine) as s:  # sessions already delivering, one per streaming chair
        worlds = [delivery_world(s, clinic_id, accounts["deliver"][1], now, tag=f"{uuid.uuid4().hex[:6]}-{i}",
                                 model="magventure-x100", slot=i, status="delivering") for i in range(chairs)]
    engine.dispose()
    return World(clinic_id, tokens, lane_chairs, lane_techs, [m[0] for m in made], [m[1] for m in made],
                 [m[2] for m in made], [w.session_id for w in worlds], [w.chair_id for w in worlds],
                 open_days(40))
