"""Answers that stay true after they are sent: stale sources, expiry, one story, provenance."""
