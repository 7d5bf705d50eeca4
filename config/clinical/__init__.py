"""Clinical rules as versioned JSON data files (read by ``config.clinical_data``)."""
