"""Hybrid retrieval: dense + BM25, fused, plus matching against approved library questions."""
