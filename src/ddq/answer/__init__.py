"""Drafting answers: grounded in retrieved evidence or approved library entries, or absent."""
