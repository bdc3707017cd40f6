"""The caution register (R2-R9) and contact restrictions (C1): panel, import, letters, privacy."""
