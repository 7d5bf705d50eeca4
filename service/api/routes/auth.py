"""Sign-in for API clients (OAuth2 password flow → opaque bearer token), who-am-I, sign-out."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from service.api.deps import AnyPrincipal, NowDep, SessionDep, SettingsDep, client_of, public, read_only
from service.auth import service
from service.auth.schemas import Me, TokenResponse
from service.core.errors import Unauthorized

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse, dependencies=[Depends(public())])
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep,
) -> object:
    """Exchange username and password for a bearer token (throttled after repeated failures)."""
    result = service.login(
        session, settings, request.app.state.passwords, username=form.username, password=form.password,
        kind="bearer", now=now, client=client_of(request),
    )
    if result is None:
        session.commit()  # the failed attempt must count even though the request is refused
        raise Unauthorized("wrong username or password")
    token, _user = result
    return TokenResponse(
        access_token=token,
        expires_in=settings.session_idle_minutes * 60,
        absolute_expires_at=now + timedelta(hours=settings.session_absolute_hours),
    )


@router.get("/me", response_model=Me)
@read_only
def me(who: AnyPrincipal, settings: SettingsDep) -> object:
    """Who you are signed in as."""
    return Me(
        user_id=who.user_id, username=who.username, display_name=who.display_name, role=who.role,
        clinic_id=who.clinic_id, idle_timeout_seconds=settings.session_idle_minutes * 60,
    )


@router.post("/keep-alive", status_code=204)
def keep_alive(who: AnyPrincipal) -> None:
    """Count the caller as active: pages call this on input or while a delivery is live on them.

    Authenticating the call is what refreshes the session's last-seen time, so this needs no body.
    """


@router.post("/logout", status_code=204)
def logout(who: AnyPrincipal, session: SessionDep, now: NowDep) -> None:
    """End this session; the token stops working at once."""
    service.logout(session, who, now)
