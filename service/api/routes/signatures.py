"""Signature and course-review endpoints. Signing needs the password again (and the username at the first signing
of a sign-in session); there is no unsign or delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.api.deps import Id, NowDep, PsychiatristUser, SessionDep, SettingsDep, StaffUser
from service.signatures import reviews, service, subjects
from service.signatures.schemas import ReviewAmend, ReviewCreate, ReviewPublic, SignaturePublic, SignBatch, SignIn

router = APIRouter(prefix="/api/v1", tags=["signatures"])


@router.post("/signatures", status_code=201, response_model=SignaturePublic)
def sign(body: SignIn, request: Request, who: PsychiatristUser, session: SessionDep, settings: SettingsDep,
         now: NowDep) -> object:
    """Sign the current version of a record (psychiatrists). The first signing after sign-in needs the username
    and the password; later ones in the same sign-in session need only the password (21 CFR 11.200(a))."""
    try:
        sig = service.sign(session, who, settings, request.app.state.passwords, body, now)
    except service.SignRefused:
        session.commit()  # the refused attempt is audited and counts towards the lockout; nothing is signed
        raise
    subject = subjects.SUBJECTS[sig.subject]
    return service.public(sig, subject.load(session, who.clinic_id, sig.subject_id))


@router.post("/signatures/batch", status_code=201, response_model=list[SignaturePublic])
def sign_batch(body: SignBatch, request: Request, who: PsychiatristUser, session: SessionDep,
               settings: SettingsDep, now: NowDep) -> object:
    """Sign several records with one entry of the password (and the username at the session's first signing).
    Each record gets its own signature with its own meaning and hash; all are signed or none."""
    try:
        sigs = service.sign_batch(session, who, settings, request.app.state.passwords, body, now)
    except service.SignRefused:
        session.commit()
        raise
    return [service.public(s, subjects.SUBJECTS[s.subject].load(session, who.clinic_id, s.subject_id))
            for s in sigs]


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
