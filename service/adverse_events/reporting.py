"""MDR reporting tasks: due date by facility type, counted in work days as 21 CFR 803.3 defines them.

A work day there is Monday to Friday except Federal holidays, so the count uses the US federal calendar
(with its observed dates), never the clinic's state or country calendar: a state holiday such as
California's day after Thanksgiving is a work day for the FDA's clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import holidays
from sqlmodel import Session

from config import clinical_data
from service.adverse_events import repository
from service.adverse_events.schemas import TaskCompletion
from service.audit import service as audit
from service.auth.principal import Principal
from service.core import validation
from service.core.errors import NotFound
from service.models.adverse_events import AdverseEvent, ReportingTask
from service.records import amendments
from service.rules import adverse_events as rules

ENTITY = "ae_reporting_task"


def federal_holidays(start: date) -> list[date]:
    """US Federal holidays (observed dates included) of ``start``'s year and the next."""
    # No subdivision: the library's US calendar without one is the federal list (5 U.S.C. 6103).
    return sorted(holidays.country_holidays("US", years=(start.year, start.year + 1)))


def open_task(
    session: Session, who: Principal, event: AdverseEvent, facility_type: str, now: datetime
) -> ReportingTask:
    """Open the reporting task a serious event needs; the due date follows the facility type."""
    kind = "death" if "death" in event.serious_criteria else "serious_injury"
    with validation.field_errors():
        due = rules.reporting_due(facility_type, event.aware_on, event=kind,  # type: ignore[arg-type]
                                  holidays=federal_holidays(event.aware_on))
    task = ReportingTask(
        clinic_id=who.clinic_id, patient_id=event.patient_id, adverse_event_id=event.id or 0,
        facility_type=due.facility_type, event=due.event, mandatory=due.mandatory, form=due.form,
        recipients=list(due.recipients), work_days=due.work_days, due_on=due.due_on, reasons=list(due.reasons),
        created_at=now,
    )
    amendments.created(session, who, task, entity=ENTITY, patient_id=event.patient_id, now=now)
    return task


def list_tasks(session: Session, who: Principal, now: datetime, status: str | None) -> list[ReportingTask]:
    """The clinic's reporting tasks, soonest due first; the listing is audited."""
    rows = repository.tasks(session, who.clinic_id, status)
    audit.record(session, who.actor, at=now, action="list", entity=ENTITY,
                 new={"status": status, "returned": [t.id for t in rows]})
    return rows


def complete(session: Session, who: Principal, task_id: int, data: TaskCompletion, now: datetime) -> ReportingTask:
    """Record that the report was made (what, to whom, with which reference)."""
    task = repository.task(session, who.clinic_id, task_id)
    if task is None:
        raise NotFound(f"reporting task {task_id} not found")
    if task.status != "open":
        raise validation.conflict("status", f"reporting task {task_id} is already done")
    task.status, task.note, task.completed_by, task.completed_at = "done", data.note, who.user_id, now
    session.add(task)
    session.flush()
    audit.record(session, who.actor, at=now, action="complete", entity=ENTITY, entity_id=task.id,
                 patient_id=task.patient_id, old={"status": "open"}, new={"status": "done", "note": data.note})
    return task


def vocabulary() -> dict[str, Any]:
    """Terms, grades, seriousness criteria, relatedness, actions and outcomes (versioned data)."""
    data = clinical_data.adverse_events()
    return {"version": data.version, "terms": [t.model_dump() for t in data.terms],
            "grades": data.grades, "seriousness_criteria": data.seriousness_criteria,
            "relatedness": list(data.relatedness), "actions": list(data.actions), "outcomes": list(data.outcomes)}
