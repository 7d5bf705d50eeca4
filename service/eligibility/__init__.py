"""Eligibility profile per patient and payer-criteria decisions built from the stored records."""
