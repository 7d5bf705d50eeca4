"""The review queue: what jobs and rules found (missed sessions, gaps, due scales and MT, authorizations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import ClinicalUser, Id, NowDep, SessionDep, SettingsDep, StaffUser
from service.flags import repository, service
from service.flags.schemas import FlagPublic, Resolve
from service.models.flags import FlagKind
from service.sessions import lost_chairs

router = APIRouter(prefix="/api/v1/review-flags", tags=["review"])


@router.get("", response_model=list[FlagPublic])
def list_flags(
    who: StaffUser, session: SessionDep, settings: SettingsDep, now: NowDep,
    open_only: Annotated[bool, Query(alias="open")] = True,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    kind: FlagKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> object:
    """Your clinic's review flags, soonest due first (open ones unless open=false)."""
    lost_chairs.sweep(session, who.clinic_id, now, settings.agent_lost_after_s)  # lost chairs' sessions are listed
    return repository.listing(session, who.clinic_id, open_only=open_only, course_id=course_id,
                              kind=kind.value if kind else None, limit=limit)


@router.post("/{flag_id}/resolve", response_model=FlagPublic)
def resolve_flag(flag_id: Id, body: Resolve, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """Close a review flag with what was done about it."""
    return service.resolve(session, who, flag_id, body.resolution, now)
