"""Plumbing shared by the clinical records: the clinic's day, course lookup, audited create, amend and read."""
