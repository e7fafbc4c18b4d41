"""Quality evaluation harnesses."""
