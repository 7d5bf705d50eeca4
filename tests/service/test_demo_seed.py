"""`make run`'s demo: a patient ready to treat today on each simulated chair, and a new referral to take through
intake; running the seed again adds nothing."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlmodel import select

from service.blockers.service import blockers_for
from service.core.db import session_scope
from service.models.bookings import Booking
from service.models.chairs import Chair
from service.models.courses import Course
from service.models.patients import Patient
from service.records import clinic_day
from service.seed import DEMO_CHAIRS, seed_demo
from tests.conftest import T0


def _seed(app: FastAPI, at: object = T0) -> int:
    with session_scope(app.state.engine) as session:
        return seed_demo(session, app.state.passwords, at).clinic_id  # type: ignore[arg-type]


def test_each_chair_has_a_patient_ready_to_treat_today_and_a_referral_waits(app: FastAPI) -> None:
    clinic_id = _seed(app)
    with session_scope(app.state.engine) as session:
        today = clinic_day.clinic_today(session, clinic_id, T0)
        bookings = session.exec(select(Booking).where(Booking.clinic_id == clinic_id)).all()
        chairs = {c.id: c.name for c in session.exec(select(Chair).where(Chair.clinic_id == clinic_id)).all()}
        assert sorted(chairs[b.chair_id] for b in bookings) == sorted(name for name, *_ in DEMO_CHAIRS)
        for b in bookings:
            assert clinic_day.local_now(session, clinic_id, b.start_at.replace(tzinfo=T0.tzinfo)).date() == today
            found = blockers_for(session, clinic_id, b.patient_id, b.course_id, today, checklist_answers=None, now=T0)
            assert [x.code for x in found] == ["checklist_incomplete"], [x.message for x in found]
        referral = session.exec(select(Patient).where(Patient.clinic_id == clinic_id, Patient.mrn == "DEMO-0003")).one()
        assert not session.exec(select(Course).where(Course.patient_id == referral.id)).all()


def test_seeding_again_adds_nothing_the_same_day_and_books_again_the_next(app: FastAPI) -> None:
    clinic_id = _seed(app)
    _seed(app, T0 + timedelta(hours=1))
    with session_scope(app.state.engine) as session:
        assert len(session.exec(select(Booking).where(Booking.clinic_id == clinic_id)).all()) == 2
        assert len(session.exec(select(Patient).where(Patient.clinic_id == clinic_id)).all()) == 3
    _seed(app, T0 + timedelta(days=1))
    with session_scope(app.state.engine) as session:
        assert len(session.exec(select(Booking).where(Booking.clinic_id == clinic_id)).all()) == 4
