"""Display labels for the codes pages show: protocol ids, statuses, adverse-event vocabulary, roles.

Codes stay the stored values; pages show words. A code without a label of its own reads as its words
(``checked_in`` → "Checked in"), so a new status never appears as a raw identifier.
"""

from __future__ import annotations

from functools import cache

from config import clinical_data
from config.device_profiles import available_models, load_profile

# Where the plain reading of a code would mislead or read oddly.
_WORDS = {
    "checked_in": "Checked in",
    "ready_to_start": "Ready to start",
    "programming": "Programming the device",
    "ready": "Device ready",
    "delivering": "Delivering",
    "no_show": "Missed (no show)",
    "missed": "Missed",
    "not_eligible": "Not eligible",
    "needs_review": "Needs review",
    "emg_relative_frequency": "EMG, relative frequency (50 µV in 5 of 10)",
    "ml_pest": "ML-PEST (adaptive threshold hunting)",
    "two_threshold": "Two-threshold",
    "device_assisted": "Device-assisted",
    "psychiatrist": "Psychiatrist",
    "technician": "Technician",
    "admin": "Administrator",
    "agent": "Chair agent",
    "L-DLPFC": "Left DLPFC",
    "beam_f3": "Beam F3 (head measurements)", "eeg_f3": "EEG 10-20 F3", "5cm_rule": "5 cm rule",
    "5.5cm_rule": "5.5 cm rule", "neuronavigation": "Neuronavigation", "fmri_guided": "fMRI-guided",
    "h1_helmet": "H1 coil helmet",
    "phq9_due": "PHQ-9 due", "mt_due": "Motor threshold due", "sae_report_due": "Serious adverse event report due",
}


@cache
def _vocabulary() -> dict[str, str]:
    words: dict[str, str] = {}
    for protocol in clinical_data.protocols().protocols:
        words[protocol.id] = protocol.name
    ae = clinical_data.adverse_events()
    for term in ae.terms:
        words[term.code] = term.label
    words.update(ae.seriousness_criteria)
    words.update({model: load_profile(model).display_name for model in available_models()})
    criteria = clinical_data.payer_criteria()
    words.update(criteria.condition_vocabulary)
    words.update({s.id: s.name for s in criteria.criteria_sets})
    return words | _WORDS


def label(code: object) -> str:
    """The words for a code shown on a page."""
    if code is None:
        return "—"
    text = str(code)
    found = _vocabulary().get(text)
    if found is not None:
        return found
    if "_" in text or text.islower():
        spaced = text.replace("_", " ")
        return spaced[:1].upper() + spaced[1:]
    return text
