"""Course templates (phases and their rhythm) loaded from ``course_templates.json``.

The clinical facts behind each template are cited in the JSON's ``source`` fields
(docs/clinical-rules.md#cleared-protocols and #course-structure).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TEMPLATES_PATH = Path(__file__).resolve().parent / "course_templates.json"

PhaseKind = Literal["acute", "extension", "taper", "continuation", "retreatment"]
Weekday = Annotated[int, Field(ge=0, le=6)]
WEEKDAYS_MON_FRI: tuple[int, ...] = (0, 1, 2, 3, 4)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DailyRhythm(_Frozen):
    """``per_day`` sessions on every open clinic day whose weekday is listed (5×/week: Perera 2016)."""

    type: Literal["daily"] = "daily"
    weekdays: tuple[Weekday, ...] = WEEKDAYS_MON_FRI
    per_day: int = Field(default=1, ge=1)


class WeeklyRhythm(_Frozen):
    """``per_week[k]`` sessions in rolling week k, at least ``min_days_between`` calendar days apart."""

    type: Literal["weekly"] = "weekly"
    per_week: tuple[Annotated[int, Field(ge=0, le=7)], ...]
    weeks: int | None = Field(default=None, ge=1)
    min_days_between: int = Field(default=1, ge=1, le=7)
    weekdays: tuple[Weekday, ...] = WEEKDAYS_MON_FRI

    def week_counts(self) -> tuple[int, ...]:
        """The per-week counts, with a single count repeated ``weeks`` times."""
        if self.weeks is not None and len(self.per_week) == 1:
            return self.per_week * self.weeks
        return self.per_week

    @model_validator(mode="after")
    def _weeks_only_with_one_count(self) -> WeeklyRhythm:
        if self.weeks is not None and len(self.per_week) != 1:
            raise ValueError("'weeks' repeats a single per_week count; give one count or drop 'weeks'")
        return self


class IntensiveRhythm(_Frozen):
    """``per_day`` sessions on consecutive open days, starts ``min_start_interval_minutes`` apart (SAINT)."""

    type: Literal["intensive"] = "intensive"
    per_day: int = Field(ge=1)
    min_start_interval_minutes: int = Field(ge=0)
    weekdays: tuple[Weekday, ...] = WEEKDAYS_MON_FRI


Rhythm = Annotated[DailyRhythm | WeeklyRhythm | IntensiveRhythm, Field(discriminator="type")]


class PhaseTemplate(_Frozen):
    """One phase of a course: its kind, planned session count and rhythm."""

    name: str
    kind: PhaseKind
    sessions: int = Field(ge=1)
    rhythm: Rhythm

    @model_validator(mode="after")
    def _count_matches_rhythm(self) -> PhaseTemplate:
        if isinstance(self.rhythm, WeeklyRhythm) and sum(self.rhythm.week_counts()) != self.sessions:
            raise ValueError(
                f"phase {self.name!r}: weekly counts sum to {sum(self.rhythm.week_counts())},"
                f" not {self.sessions} sessions"
            )
        return self


class ExtensionRule(_Frozen):
    """Extend the course when improvement at about session N reaches a threshold (Noridian A57598)."""

    min_improvement_pct: float = Field(gt=0)
    evaluate_at_session: int = Field(ge=1)
    evaluation_tolerance_sessions: int = Field(default=0, ge=0)
    replaces_from_phase: str
    phases: tuple[PhaseTemplate, ...] = Field(min_length=1)


class CourseTemplate(_Frozen):
    """A named course: ordered phases, an optional extension rule and a retreatment gate."""

    id: str
    name: str
    source: str
    phases: tuple[PhaseTemplate, ...] = Field(min_length=1)
    extension: ExtensionRule | None = None
    requires_prior_response_pct: float | None = None

    @property
    def total_sessions(self) -> int:
        """Sessions in the base phases (without any extension)."""
        return sum(p.sessions for p in self.phases)

    def extension_applies(self, improvement_pct: float, at_session: int) -> bool:
        """True when the extension rule fires for this improvement measured at this session."""
        rule = self.extension
        if rule is None:
            return False
        near = abs(at_session - rule.evaluate_at_session) <= rule.evaluation_tolerance_sessions
        return near and improvement_pct >= rule.min_improvement_pct

    def phases_for(
        self, improvement_pct: float | None = None, at_session: int | None = None
    ) -> tuple[PhaseTemplate, ...]:
        """The phases to plan: the base phases, or with the extension replacing the tail when it applies."""
        rule = self.extension
        if rule is None or improvement_pct is None:
            return self.phases
        if not self.extension_applies(improvement_pct, at_session or rule.evaluate_at_session):
            return self.phases
        cut = next(i for i, p in enumerate(self.phases) if p.name == rule.replaces_from_phase)
        return self.phases[:cut] + rule.phases

    @model_validator(mode="after")
    def _names_are_consistent(self) -> CourseTemplate:
        names = [p.name for p in self.phases] + [p.name for p in (self.extension.phases if self.extension else ())]
        if len(set(names)) != len(names):
            raise ValueError(f"template {self.id!r}: phase names repeat: {names}")
        if self.extension and self.extension.replaces_from_phase not in {p.name for p in self.phases}:
            raise ValueError(f"template {self.id!r}: extension replaces unknown phase")
        return self


class CourseTemplates(_Frozen):
    """The whole catalog file."""

    version: int
    notes: str = ""
    templates: tuple[CourseTemplate, ...]

    def get(self, template_id: str) -> CourseTemplate:
        """The template with this id (KeyError names the known ids)."""
        for template in self.templates:
            if template.id == template_id:
                return template
        raise KeyError(f"unknown course template {template_id!r}; known: {[t.id for t in self.templates]}")

    @model_validator(mode="after")
    def _unique_ids(self) -> CourseTemplates:
        ids = [t.id for t in self.templates]
        if len(set(ids)) != len(ids):
            raise ValueError(f"course template ids repeat: {ids}")
        return self


@lru_cache
def load_course_templates(path: Path = TEMPLATES_PATH) -> CourseTemplates:
    """Parse and validate the catalog (cached per path)."""
    return CourseTemplates.model_validate_json(path.read_text(encoding="utf-8"))


def get_course_template(template_id: str) -> CourseTemplate:
    """One template from the default catalog."""
    return load_course_templates().get(template_id)
