"""Adverse events, their psychiatrist clearance and MDR reporting tasks (issue 4)."""
