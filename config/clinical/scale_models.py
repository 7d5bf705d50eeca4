"""Pydantic models of ``scales.json`` (rating-scale definitions)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.clinical.base import FrozenModel, VersionedFile

# ---------------------------------------------------------------- rating scales


class ScaleItem(FrozenModel):
    number: int = Field(ge=1)
    label: str
    min: int
    max: int
    loinc: str | None = None
    scored: bool = True
    required: bool = True


class SeverityBand(FrozenModel):
    min: int
    max: int
    label: str


class Remission(FrozenModel):
    op: Literal["lt", "le"]
    value: int
    source: str


class SuicideItem(FrozenModel):
    number: int
    alert_above: int
    source: str


class Domain(FrozenModel):
    name: str
    items: tuple[int, ...]


class Scoring(FrozenModel):
    method: Literal["sum", "domains"]
    domains: tuple[Domain, ...] = ()


class Instrument(FrozenModel):
    id: str
    # What the scale rates: payers' retreatment and baseline rules need a standardised depression scale.
    measures: Literal["depression", "anxiety"]
    name: str
    aliases: tuple[str, ...] = ()
    source: str
    loinc_panel: str | None = None
    loinc_total: str | None = None
    answer_codes: dict[str, str] = Field(default_factory=dict)
    items: tuple[ScaleItem, ...]
    scoring: Scoring
    severity_bands: tuple[SeverityBand, ...]
    remission: Remission | None
    suicide_items: tuple[SuicideItem, ...] = ()

    @property
    def max_total(self) -> int:
        """Highest possible total (sum of item maxima, or of domain maxima)."""
        by_number = {i.number: i for i in self.items}
        if self.scoring.method == "domains":
            return sum(max(by_number[n].max for n in d.items) for d in self.scoring.domains)
        return sum(i.max for i in self.items if i.scored)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        numbers = [i.number for i in self.items]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.id}: item numbers must be 1..n in order")
        if any(i.min > i.max for i in self.items):
            raise ValueError(f"{self.id}: an item has min > max")
        required = [i.number for i in self.items if i.required]
        if required != list(range(1, len(required) + 1)):
            raise ValueError(f"{self.id}: optional items must come after the required ones")
        for d in self.scoring.domains:
            if not set(d.items) <= set(numbers):
                raise ValueError(f"{self.id}: domain {d.name} names an unknown item")
        _check_bands(self.id, self.severity_bands, 0, self.max_total)
        for s in self.suicide_items:
            if s.number not in numbers:
                raise ValueError(f"{self.id}: suicide item {s.number} does not exist")
        return self


def _check_bands(name: str, bands: tuple[SeverityBand, ...], low: int, high: int) -> None:
    expected = low
    for band in bands:
        if band.min != expected or band.max < band.min:
            raise ValueError(f"{name}: severity bands must be contiguous from {low}; broken at {band}")
        expected = band.max + 1
    if expected != high + 1:
        raise ValueError(f"{name}: severity bands end at {expected - 1}, the total range ends at {high}")


class ScalesFile(VersionedFile):
    response_min_reduction_pct: int = Field(gt=0, le=100)
    instruments: tuple[Instrument, ...]
