"""Clinic outcomes: response and remission of ended courses by protocol and instrument, beside benchmarks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.api.deps import NowDep, SessionDep, SettingsDep
from service.audit import service as audit
from service.documents import outcomes
from service.rules import protocols
from service.web.pages import StaffPage, render

router = APIRouter(include_in_schema=False)


def _protocol_name(protocol_id: str) -> str:
    try:
        return str(protocols.get(protocol_id).name)
    except Exception:  # noqa: BLE001 - a retired protocol id still gets a row, under its id
        return protocol_id


@router.get("/outcomes")
def outcomes_page(request: Request, me: StaffPage, session: SessionDep, settings: SettingsDep,
                  now: NowDep) -> Response:
    """Aggregate rates only (no patient is named), so every staff role may see them."""
    rows = outcomes.by_protocol(session, me.clinic_id)
    for row in rows:
        row["protocol_name"] = _protocol_name(row["protocol_id"])
    audit.record(session, me.actor, at=now, action="read", entity="clinic_outcomes", new={"rows": len(rows)})
    return render(request, "outcomes.html", me, settings, rows=rows, benchmarks=outcomes.BENCHMARKS,
                  denominators=outcomes.DENOMINATORS, page="outcomes")
