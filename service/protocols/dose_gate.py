"""The dose check with the database behind it: the pure check, then the course's signed override if needed.

Ordering and amending a course, preflight, start and resume all call :func:`require`; a dose outside
the safety table is refused (409 ``dose_outside_table``, naming each cell and limit) unless a psychiatrist
signed an override of exactly that parameter set for that course (docs/dose-safety.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from service.core.errors import Conflict
from service.models.courses import Course
from service.models.protocols import ProtocolOverride
from service.protocols.service import override_for
from service.rules import dose_check
from service.rules import protocols as protocol_rules
from service.rules.errors import RuleInputError


@dataclass(frozen=True)
class Verdict:
    """The check and, for a dose outside the table, the override that accepts it."""

    check: dose_check.DoseCheck
    override: ProtocolOverride | None

    def public(self) -> dict[str, Any]:
        """How the course, the preflight and the session record show it."""
        return {
            "within_table": self.check.within_table,
            "whitelisted_protocol_id": self.check.whitelisted_protocol_id,
            "intensity_pct_rmt": self.check.intensity_pct_rmt,
            "violations": [asdict(v) for v in self.check.violations],
            "override": None if self.override is None else override_public(self.override),
        }


def override_public(o: ProtocolOverride) -> dict[str, Any]:
    """A signed override as shown beside the dose it accepts."""
    return {"id": o.id, "printed_name": o.printed_name, "signed_by": o.signed_by, "signed_at": o.signed_at,
            "meaning": o.meaning, "reason": o.reason, "violations": o.violations}


def run(course: Course, intensity_pct: float, *, mt_pct_mso: float | None = None,
        depth_adjusted_mt_pct_mso: float | None = None, device_max_pct: float | None = None,
        field: str = "intensity_pct_mt") -> dose_check.DoseCheck:
    """The pure check for the course's protocol; bad input (e.g. no depth-adjusted MT) is a 409 naming it."""
    try:
        protocol = protocol_rules.get(course.protocol_id)
        return dose_check.check(protocol, intensity_pct, mt_pct_mso=mt_pct_mso,
                                depth_adjusted_mt_pct_mso=depth_adjusted_mt_pct_mso, device_max_pct=device_max_pct)
    except RuleInputError as exc:
        raise Conflict(f"{exc.field}: dose refused: {exc.message}", code="dose_refused",
                       details={"field": exc.field}) from exc


def require(session: Session, course: Course, check: dose_check.DoseCheck,
            field: str = "intensity_pct_mt") -> Verdict:
    """The verdict if the dose may be used; 409 naming every cell and limit if it lies outside the table unsigned."""
    if check.within_table:
        return Verdict(check, None)
    override = override_for(session, course, check.params)
    if override is None:
        raise Conflict(
            f"{field}: the dose lies outside the safety table: {dose_check.describe(check.violations)} "
            "A psychiatrist's signed override for this course and exactly these parameters is needed.",
            code="dose_outside_table",
            details={"violations": [asdict(v) for v in check.violations],
                     "parameters": dose_check.params_dict(check.params)})
    return Verdict(check, override)


def verdict_or_none(session: Session, course: Course) -> Verdict | None:
    """The course prescription's verdict for display; None when it is outside the table unsigned."""
    try:
        return require(session, course, run(course, course.intensity_pct_mt))
    except Conflict:
        return None
