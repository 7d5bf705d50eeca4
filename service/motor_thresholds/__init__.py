"""Motor-threshold determinations (history, never overwritten), freshness and the Beam F3 helper."""
