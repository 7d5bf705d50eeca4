"""Typed, cached loaders for the clinical rule data in ``config/clinical/*.json``.

Every file carries a ``version`` and a ``source`` note; the numbers and their sources come from
``docs/clinical-rules.md``. Values tagged [U] (unverified) there live only in these files, so
they can be corrected without touching code. Loading validates the structure and the internal
consistency that code relies on (severity bands cover the whole score range without gaps, item
numbers are contiguous, safety-table rows are complete); a bad file fails loudly at first use.

Public API (all cached for the process; call ``clear_cache()`` in tests that swap files):
``scales()``, ``medications()``, ``payer_criteria()``, ``screening()``, ``checklist()``,
``protocols()``, ``safety_table()``, ``motor_threshold()``, ``adverse_events()``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from config.clinical.eligibility_models import *  # noqa: F403
from config.clinical.eligibility_models import MedicationsFile, PayerCriteriaFile
from config.clinical.safety_models import *  # noqa: F403
from config.clinical.safety_models import (
    AdverseEventsFile,
    ChecklistFile,
    MotorThresholdFile,
    ProtocolsFile,
    SafetyTableFile,
    ScreeningFile,
)
from config.clinical.scale_models import *  # noqa: F403
from config.clinical.scale_models import ScalesFile

DATA_DIR = Path(__file__).resolve().parent / "clinical"


# ---------------------------------------------------------------- loaders


def _read(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache
def scales() -> ScalesFile:
    """Rating-scale definitions (PHQ-9, HAM-D17, MADRS, QIDS-SR16, GAD-7)."""
    return ScalesFile.model_validate(_read("scales.json"))


@lru_cache
def medications() -> MedicationsFile:
    """Drug classes and minimum effective doses ([U] values: verify)."""
    return MedicationsFile.model_validate(_read("medications.json"))


@lru_cache
def payer_criteria() -> PayerCriteriaFile:
    """Payer medical-necessity criteria sets."""
    return PayerCriteriaFile.model_validate(_read("payer_criteria.json"))


@lru_cache
def screening() -> ScreeningFile:
    """The current safety-screening questionnaire (IFCN + TASS items)."""
    return ScreeningFile.model_validate(_read("screening.json"))


@lru_cache
def checklist() -> ChecklistFile:
    """The pre-session checklist."""
    return ChecklistFile.model_validate(_read("checklist.json"))


@lru_cache
def protocols() -> ProtocolsFile:
    """The protocol catalog (cleared and common MDD protocols)."""
    return ProtocolsFile.model_validate(_read("protocols.json"))


@lru_cache
def safety_table() -> SafetyTableFile:
    """Rossi 2009 Table 4 single-train limits and the inter-train rule."""
    return SafetyTableFile.model_validate(_read("safety_table.json"))


@lru_cache
def motor_threshold() -> MotorThresholdFile:
    """MT freshness policy, depth-adjustment slope and Beam F3 constants."""
    return MotorThresholdFile.model_validate(_read("motor_threshold.json"))


@lru_cache
def adverse_events() -> AdverseEventsFile:
    """Adverse-event vocabulary, grades, seriousness criteria and reporting deadlines."""
    return AdverseEventsFile.model_validate(_read("adverse_events.json"))


_LOADERS = (
    scales,
    medications,
    payer_criteria,
    screening,
    checklist,
    protocols,
    safety_table,
    motor_threshold,
    adverse_events,
)


def clear_cache() -> None:
    """Forget every loaded file (tests that patch DATA_DIR call this)."""
    for loader in _LOADERS:
        loader.cache_clear()


def load_all() -> None:
    """Load and validate every file now (for a startup check)."""
    for loader in _LOADERS:
        loader()
