"""Helpers shared by the clinical-record resources (medications, assessments, screenings...)."""
