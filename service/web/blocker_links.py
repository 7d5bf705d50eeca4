"""What clears each treatment blocker, and who may do it: the page a blocker links to for that role.

Roles follow the API's own rules (the route that records the fix): a technician records a screening, an MT
or a scale; only the psychiatrist clears a finding or an adverse event, answers an alert, documents why a course with no
eligibility on record is treated, or activates a course; the psychiatrist or an administrator files an authorization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.auth.principal import Principal
from service.web.labels import label

CLINICAL = ("technician", "psychiatrist")
PSYCHIATRIST = ("psychiatrist",)
AUTHORIZERS = ("psychiatrist", "admin")


@dataclass(frozen=True)
class Fix:
    text: str  # the link's words
    path: str  # a format string over patient_id and course_id
    roles: tuple[str, ...]


FIXES: dict[str, Fix] = {
    "screening_missing": Fix("Record the safety screening", "/patients/{patient_id}/screening?course_id={course_id}",
                             CLINICAL),
    "screening_stale": Fix("Repeat the safety screening", "/patients/{patient_id}/screening?course_id={course_id}",
                           CLINICAL),
    "screening_incomplete": Fix("Finish the safety screening",
                                "/patients/{patient_id}/screening?course_id={course_id}", CLINICAL),
    "screening_absolute_contraindication": Fix(
        "Record the checked answers", "/patients/{patient_id}/screening/checks?course_id={course_id}", CLINICAL),
    "screening_uncleared": Fix("Review and clear the screening findings",
                               "/patients/{patient_id}/screening/clearance?course_id={course_id}", PSYCHIATRIST),
    "mt_stale": Fix("Determine the motor threshold",
                    "/patients/{patient_id}/motor-threshold?course_id={course_id}", CLINICAL),
    "eligibility_undocumented": Fix("Document why the course is treated",
                                    "/patients/{patient_id}/eligibility?course_id={course_id}#exception",
                                    PSYCHIATRIST),
    "course_not_active": Fix("Activate the course", "/courses/{course_id}/status", PSYCHIATRIST),
    "authorization_missing": Fix("Record the payer authorization", "/courses/{course_id}/authorization",
                                 AUTHORIZERS),
    "authorization_not_started": Fix("Amend the authorization dates", "/courses/{course_id}/authorization",
                                     AUTHORIZERS),
    "authorization_expired": Fix("Record the renewed authorization", "/courses/{course_id}/authorization",
                                 AUTHORIZERS),
    "authorization_exhausted": Fix("Record further authorized units", "/courses/{course_id}/authorization",
                                   AUTHORIZERS),
    "adverse_event_uncleared": Fix("Review and clear the adverse event", "/courses/{course_id}#adverse-events",
                                   PSYCHIATRIST),
    "suicide_alert_open": Fix("Respond to the alert", "/review#q-alerts", PSYCHIATRIST),
}


def before_check_in(found: list[Any]) -> list[Any]:
    """Blockers that must be cleared before a session: the checklist is asked at the chair after check-in."""
    return [b for b in found if not str(b["code"]).startswith("checklist_")]


def _who(roles: tuple[str, ...]) -> str:
    words = [label(r).lower() for r in roles]
    return " or ".join(f"the {w}" if w != "administrator" else "an administrator" for w in words)


def action(me: Principal | None, code: str, patient_id: int, course_id: int) -> dict[str, Any] | None:
    """The link that clears ``code`` when the signed-in role may do it; else who must act. None: nothing to do."""
    fix = FIXES.get(code)
    if fix is None:
        return None
    if me is not None and me.role in fix.roles:
        return {"href": fix.path.format(patient_id=patient_id, course_id=course_id), "text": fix.text}
    return {"href": None, "text": f"{fix.text}: {_who(fix.roles)} must do this."}
