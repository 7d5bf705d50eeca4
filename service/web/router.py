"""Sign-in pages (session cookie) and the home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from service.api.deps import SESSION_COOKIE, NowDep, SessionDep, SettingsDep, client_of, public
from service.auth import service as auth_service
from service.clinics import repository as clinics
from service.core.errors import TooManyRequests
from service.web import (
    admin_pages,
    adverse_event_pages,
    authorization_pages,
    chair_pages,
    course_amend_pages,
    course_pages,
    document_pages,
    eligibility_pages,
    flag_pages,
    history_pages,
    intake_pages,
    outcome_pages,
    override_pages,
    patient_pages,
    record_pages,
    review_queue,
    schedule_pages,
    self_report_pages,
)
from service.web.pages import StaffPage, render, safe_next

router = APIRouter(include_in_schema=False)


@router.get("/login", dependencies=[Depends(public())])
def login_page(request: Request, settings: SettingsDep, expired: int = 0, next: str = "/") -> Response:
    """The sign-in form (``next``: the page to return to, where an unsent form is restored)."""
    notice = "You were signed out after a period of inactivity." if expired else None
    return render(request, "login.html", None, settings, notice=notice, next=safe_next(next))


@router.post("/login", dependencies=[Depends(public())])
def login_submit(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep,
    username: Annotated[str, Form(max_length=80)], password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password, set the session cookie, go home."""
    try:
        result = auth_service.login(
            session, settings, request.app.state.passwords, username=username, password=password,
            kind="cookie", now=now, client=client_of(request),
        )
    except TooManyRequests as exc:
        return render(request, "login.html", None, settings, error=exc.message, username=username,
                      next=safe_next(next))
    if result is None:
        session.commit()
        response = render(request, "login.html", None, settings, error="Wrong username or password.",
                          username=username, next=safe_next(next))
        response.status_code = 401
        return response
    token, _user = result
    redirect = RedirectResponse(safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict",
        secure=settings.environment == "production", max_age=int(settings.session_absolute_hours * 3600),
    )
    return redirect


@router.post("/logout")
def logout_submit(me: StaffPage, session: SessionDep, now: NowDep) -> Response:
    """End the session and drop the cookie."""
    auth_service.logout(session, me, now)
    redirect = RedirectResponse("/login", status_code=303)
    redirect.delete_cookie(SESSION_COOKIE)
    return redirect


@router.get("/")
def home(request: Request, me: StaffPage, session: SessionDep, settings: SettingsDep) -> Response:
    """Landing page after sign-in."""
    return render(request, "home.html", me, settings, clinic=clinics.get(session, me.clinic_id))



# Each page family is a router of its own, mounted here so app.py lists one web router.
# The intake form's /patients/new comes before /patients/{patient_id}, which would otherwise claim it.
for _pages in (intake_pages, chair_pages, course_pages, patient_pages, review_queue, outcome_pages, document_pages,
               record_pages,
               history_pages, eligibility_pages, course_amend_pages,
               self_report_pages, adverse_event_pages, override_pages,
               schedule_pages, admin_pages, flag_pages, authorization_pages):
    router.include_router(_pages.router)
