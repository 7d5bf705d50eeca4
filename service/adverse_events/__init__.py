"""Adverse events, their psychiatrist clearance and MDR reporting tasks."""
