"""Safety screening per course and the psychiatrist's clearances of relative contraindications."""
