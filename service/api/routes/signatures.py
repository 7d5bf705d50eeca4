"""Signature and course-review endpoints. Signing needs the password again; there is no unsign or delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.api.deps import Id, NowDep, PsychiatristUser, SessionDep, SettingsDep, StaffUser
from service.signatures import reviews, service, subjects
from service.signatures.schemas import ReviewAmend, ReviewCreate, ReviewPublic, SignaturePublic, SignIn

router = APIRouter(prefix="/api/v1", tags=["signatures"])


@router.post("/signatures", status_code=201, response_model=SignaturePublic)
def sign(body: SignIn, request: Request, who: PsychiatristUser, session: SessionDep, settings: SettingsDep,
         now: NowDep) -> object:
    """Sign the current version of a record (psychiatrists; the password is re-entered)."""
    try:
        sig = service.sign(session, who, settings, request.app.state.passwords, body, now)
    except service.WrongPassword:
        session.commit()  # the failed attempt counts towards the lockout even though nothing is signed
        raise
    subject = subjects.SUBJECTS[sig.subject]
    return service.public(sig, subject.load(session, who.clinic_id, sig.subject_id))


@router.get("/signatures", response_model=list[SignaturePublic])
def list_signatures(
    who: StaffUser, session: SessionDep,
    subject: Annotated[str, Query(min_length=1, max_length=40)],
    subject_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> object:
    """Every signature on one record, each checked against the record as it is now."""
    return service.listing(session, who, subject, subject_id)


@router.post("/courses/{course_id}/reviews", status_code=201, response_model=ReviewPublic)
def write_review(course_id: Id, body: ReviewCreate, who: PsychiatristUser, session: SessionDep,
                 now: NowDep) -> object:
    """Write a weekly review or an end-of-course summary (sign it with POST /signatures)."""
    return reviews.public(session, reviews.create(session, who, course_id, body, now))


@router.get("/courses/{course_id}/reviews", response_model=list[ReviewPublic])
def list_reviews(course_id: Id, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """A course's reviews with their signatures."""
    return reviews.of_course(session, who, course_id, now)


@router.get("/course-reviews/{review_id}", response_model=ReviewPublic)
def get_review(review_id: Id, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """One review with its signatures (the read is audited)."""
    return reviews.public(session, reviews.read(session, who, review_id, now))


@router.patch("/course-reviews/{review_id}", response_model=ReviewPublic)
def amend_review(review_id: Id, body: ReviewAmend, who: PsychiatristUser, session: SessionDep,
                 now: NowDep) -> object:
    """Amend a review with a reason: a new version; signatures on the old one are marked superseded."""
    return reviews.public(session, reviews.amend(session, who, review_id, body, now))
