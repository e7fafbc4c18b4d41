"""Reading knowledge files, chunking them, and the ingestion pipeline."""
