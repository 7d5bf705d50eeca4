"""Medication-trial history, psychotherapy trials and current-medication changes (issue 4)."""
