"""Electronic signatures (21 CFR 11.50/11.70 as the design target) and the course reviews they sign."""
