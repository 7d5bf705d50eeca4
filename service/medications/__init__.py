"""Medication-trial history, psychotherapy trials and current-medication changes."""
