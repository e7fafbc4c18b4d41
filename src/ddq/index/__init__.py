"""Derived indexes: Milvus for dense vectors, BM25 for keywords. Rebuildable from the store."""
