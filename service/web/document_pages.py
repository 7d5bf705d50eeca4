"""Printable documents that leave the clinic: the prior-authorization packet and the end-of-course summary.
Psychiatrists and administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.core.errors import Unprocessable
from service.documents import packet, record, sessions_table
from service.eligibility import service as eligibility
from service.models.users import Role
from service.records import clinic_day
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
PaperworkPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist, Role.admin))]


@router.get("/courses/{course_id}/packet", include_in_schema=False)
def packet_page(
    request: Request, course_id: Id, me: PaperworkPage, session: SessionDep, settings: SettingsDep, now: NowDep,
    criteria: Annotated[str | None, Query(max_length=60, description="Payer criteria set id")] = None,
) -> Response:
    """Printable prior-authorization packet for one payer criteria set, with the missing evidence listed."""
    sets = eligibility.criteria_sets()
    if criteria is not None and criteria not in {s["id"] for s in sets}:
        raise Unprocessable("criteria", f"unknown criteria set '{criteria}'")
    r = record.read(session, me, course_id, now, purpose="print_packet")
    # The course's own criteria set (given at ordering) is the default payer view.
    chosen = criteria or r.course.criteria_set_id or sets[0]["id"]
    decision = eligibility.decide(session, me, r.patient.id or 0, chosen, now)
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    return render(request, "packet.html", me, settings, p=packet.build(session, r, decision, today), sets=sets,
                  chosen=chosen, today=today)


@router.get("/courses/{course_id}/summary", include_in_schema=False)
def summary_page(request: Request, course_id: Id, me: PaperworkPage, session: SessionDep, settings: SettingsDep,
                 now: NowDep) -> Response:
    """Printable end-of-course summary for the referring clinician, with the signed summary if there is one."""
    r = record.read(session, me, course_id, now, purpose="print_summary")
    scores: dict[str, list[object]] = {}
    for a in r.assessments:
        scores.setdefault(a.instrument, []).append(a)
    signed = [rv for rv in r.reviews if rv.kind == "end_of_course"]
    return render(request, "summary.html", me, settings, r=r, scores=scores, counts=sessions_table.counts(r),
                  summaries=signed, today=clinic_day.clinic_today(session, me.clinic_id, now))
