"""Adverse events: vocabulary, CTCAE grade, seriousness, and the MDR reporting clock.

Numbers and sources (``config/clinical/adverse_events.json``; docs/clinical-rules.md#adverse-events):

- Severity is CTCAE v5.0 grade 1–5 [C]; seriousness is a separate regulatory judgement
  (OHRP / 21 CFR 312.32 criteria [C]). Grade 4 implies life-threatening, grade 5 death.
- A seizure is serious by default: convulsions are the textbook "important medical event" [C].
- A serious event blocks further sessions of the course until a psychiatrist clears it, and opens
  a reporting task (docs/clinical-rules.md#mdr-reporting).
- 21 CFR 803.10/803.30 [C]: a device user facility reports a death to FDA and the manufacturer, a
  serious injury to the manufacturer (FDA if the manufacturer is unknown), within 10 work days of
  becoming aware, on Form 3500A. Physician offices are not mandatory reporters (voluntary MedWatch).

Public API::

    terms() -> tuple[AETerm, ...]
    classify(term: str, grade: int, seriousness_criteria: Iterable[str] = (), *, relatedness=None,
             action=None, outcome=None, description=None) -> AEClassification
    reporting_due(facility_type: str, aware_on: date, *, event="serious_injury", holidays=(),
                  manufacturer_known=True) -> ReportingDue
    add_work_days(start: date, days: int, holidays: Iterable[date] = ()) -> date

The reporting clock runs from the date the facility became aware (21 CFR 803.30), not the onset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from config import clinical_data
from config.clinical_data import AETerm
from service.rules.errors import RuleInputError


@dataclass(frozen=True)
class AEClassification:
    """The event's grade, seriousness (with reasons) and what it sets off."""

    term: str
    grade: int
    grade_definition: str
    serious: bool
    serious_criteria: tuple[str, ...]
    expected: bool
    blocks_course: bool
    opens_reporting_task: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ReportingDue:
    """Whether a report is mandatory, to whom, on which form, by when."""

    facility_type: str
    event: str
    mandatory: bool
    due_on: date | None
    work_days: int | None
    recipients: tuple[str, ...]
    form: str
    reasons: tuple[str, ...]


def terms() -> tuple[AETerm, ...]:
    """The controlled vocabulary."""
    return clinical_data.adverse_events().terms


def _term(code: str) -> AETerm:
    for t in terms():
        if t.code == code:
            return t
    raise RuleInputError("term", f"unknown adverse-event term {code!r}; known: {', '.join(t.code for t in terms())}")


def _check_choice(field: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise RuleInputError(field, f"must be one of {', '.join(allowed)}, got {value!r}")


def _seriousness(t: AETerm, grade: int, criteria: set[str], outcome: str | None) -> tuple[list[str], list[str]]:
    found = set(criteria)
    reasons = []
    if grade == 5 or outcome == "fatal":
        found.add("death")
        reasons.append("grade 5 / fatal outcome: results in death")
    if grade == 4:
        found.add("life_threatening")
        reasons.append("grade 4: life-threatening")
    if t.serious_by_default:
        found.add("important_medical_event")
        reasons.append(f"{t.label} is serious by default (important medical event)")
    return sorted(found), reasons


def classify(
    term: str,
    grade: int,
    seriousness_criteria: Iterable[str] = (),
    *,
    relatedness: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    description: str | None = None,
) -> AEClassification:
    """Classify one event: seriousness from the criteria, the grade and the term's default."""
    data = clinical_data.adverse_events()
    t = _term(term)
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in data.grades:
        raise RuleInputError("grade", f"CTCAE grade must be 1–5, got {grade!r}")
    criteria = set(seriousness_criteria)
    for c in sorted(criteria):
        _check_choice("seriousness_criteria", c, tuple(data.seriousness_criteria))
    _check_choice("relatedness", relatedness, data.relatedness)
    _check_choice("action", action, data.actions)
    _check_choice("outcome", outcome, data.outcomes)
    if t.code == "other" and not (description and description.strip()):
        raise RuleInputError("description", "an 'other' event needs a description")
    serious, reasons = _seriousness(t, grade, criteria, outcome)
    reasons += [f"criterion: {data.seriousness_criteria[c]}" for c in sorted(criteria)]
    if t.min_grade and grade < t.min_grade:
        reasons.append(f"check the grade: {t.label} is usually grade {t.min_grade} or higher [U anchor]")
    if serious:
        reasons.append("serious: blocks further sessions until a psychiatrist clears it; opens a reporting task")
    return AEClassification(
        term=t.code,
        grade=grade,
        grade_definition=data.grades[grade],
        serious=bool(serious),
        serious_criteria=tuple(serious),
        expected=t.expected,
        blocks_course=bool(serious),
        opens_reporting_task=bool(serious),
        reasons=tuple(reasons),
    )


def add_work_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The date ``days`` work days (Mon–Fri, not a holiday) after ``start``."""
    if days < 0:
        raise RuleInputError("work_days", "must not be negative")
    off = set(holidays)
    current, left = start, days
    while left:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            left -= 1
    return current


def reporting_due(
    facility_type: str,
    aware_on: date,
    *,
    event: Literal["death", "serious_injury"] = "serious_injury",
    holidays: Iterable[date] = (),
    manufacturer_known: bool = True,
) -> ReportingDue:
    """The MDR obligation for ``event`` at a facility of ``facility_type`` (user facility: 10 work days)."""
    rep = clinical_data.adverse_events().reporting
    if facility_type not in rep.facility_types:
        raise RuleInputError("facility_type", f"must be one of {', '.join(rep.facility_types)}, got {facility_type!r}")
    facility = rep.facility_types[facility_type]
    if event not in facility.events:
        raise RuleInputError("event", f"must be one of {', '.join(facility.events)}, got {event!r}")
    rule = facility.events[event]
    recipients = rule.recipients
    if not manufacturer_known and rule.recipients_if_manufacturer_unknown:
        recipients = rule.recipients_if_manufacturer_unknown
    due = add_work_days(aware_on, rule.work_days, holidays) if rule.work_days is not None else None
    if facility.mandatory and due is not None:
        to = ", ".join(recipients)
        why = f"{facility_type}: report {event.replace('_', ' ')} to {to} within {rule.work_days} work days"
    else:
        why = (
            f"{facility_type}: not a mandatory reporter; voluntary report ({facility.form}) and notify the manufacturer"
        )
    return ReportingDue(
        facility_type, event, facility.mandatory, due, rule.work_days, recipients, facility.form, (why,)
    )
