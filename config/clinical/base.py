"""Base classes for the clinical data models: frozen, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VersionedFile(FrozenModel):
    version: str
    source: str
