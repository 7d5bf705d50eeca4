"""Helpers shared by the clinical-record resources of issue 4 (medications, assessments, screenings...)."""
