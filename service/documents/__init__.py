"""Documents that leave the clinic (prior-auth packet, end-of-course summary, FHIR, CSV) and the course record
they, and the course pages, are built from."""
