"""Protocol catalog, custom-protocol validation and psychiatrists' signed overrides."""
