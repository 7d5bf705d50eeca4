"""A psychiatrist's signed protocol override, reached from the session whose dose the safety table refused.

The form signs exactly the parameter set the dose check refused (from the session's preflight), so the signed
override is the one the dose gate looks for; the API checks the signature and the rules again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.models.patients import Patient
from service.models.users import Role
from service.sessions import service as sessions
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
PsychiatristPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist))]


def _fields(parameters: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(name, value, data-type) for each parameter the check named; absent ones stay absent."""
    typed = []
    for name, value in parameters.items():
        if value is None:
            continue
        kind = "int" if isinstance(value, int) and not isinstance(value, bool) else (
            "number" if isinstance(value, float) else "")
        typed.append((name, value, kind))
    return typed


@router.get("/chair/sessions/{session_id}/protocol-override")
def override_form(request: Request, session_id: Id, me: PsychiatristPage, session: SessionDep,
                  settings: SettingsDep, now: NowDep) -> Response:
    """The refused dose, every limit it breaks, and the signature form (reason, printed name, password)."""
    ts = sessions.get_or_404(session, me, session_id)
    preflight = sessions.preflight(session, me, session_id, now)
    error = preflight.get("dose_error") or {}
    found = error.get("details")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    parameters = details.get("parameters") if error.get("code") == "dose_outside_table" else None
    return render(request, "form_override.html", me, settings, ts=ts, p=session.get(Patient, ts.patient_id),
                  error=error, violations=details.get("violations", []),
                  fields=_fields(parameters) if parameters else None, page="chairs")
