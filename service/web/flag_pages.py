"""Open review flags for the clinical roles, each with the form that resolves it (the review queue shows the same
forms to psychiatrists among its other sections)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from service.api.deps import NowDep, SessionDep, SettingsDep
from service.audit import service as audit
from service.auth.principal import Principal
from service.flags import repository
from service.models.users import Role
from service.records import clinic_day
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]


@router.get("/review-flags")
def flags_page(request: Request, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
               now: NowDep) -> Response:
    """Every open flag of the clinic, soonest due first, resolvable with a note on what was done."""
    flags = repository.listing(session, me.clinic_id, open_only=True, course_id=None, kind=None, limit=500)
    audit.record(session, me.actor, at=now, action="list", entity="review_flag", new={"returned": len(flags)})
    return render(request, "flags.html", me, settings, flags=flags, page="review",
                  tzname=clinic_day.clinic(session, me.clinic_id).timezone)
