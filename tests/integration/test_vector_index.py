"""The Milvus collection DDQ makes: HNSW by default (approximate), FLAT on request (exact),
in a real Milvus Lite. HNSW must find what the exact scan finds, and keep workspaces apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ddq.index.vector import MilvusVectorIndex

pytestmark = pytest.mark.integration


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_hnsw_finds_what_the_exact_scan_finds(tmp_path: Path) -> None:
    uri = str(tmp_path / "milvus.db")
    client = MilvusVectorIndex.connect(uri)
    try:
        rng = np.random.default_rng(7)
        centres = _unit(rng.normal(size=(40, 64)))
        vectors = _unit(centres[rng.integers(0, 40, 3000)] + rng.normal(scale=0.3, size=(3000, 64)))
        queries = _unit(centres[:25] + rng.normal(scale=0.3, size=(25, 64)))
        ids = list(range(1, 3001))
        indexes = {kind: MilvusVectorIndex(client, f"t_{kind.lower()}", 64, kind)
                   for kind in ("HNSW", "FLAT")}
        for index in indexes.values():
            index.insert(workspace="a", ids=ids[:2500], document_ids=ids[:2500],
                         vectors=vectors[:2500])
            index.insert(workspace="b", ids=ids[2500:], document_ids=ids[2500:],
                         vectors=vectors[2500:])
            index.flush()
        for kind, index in indexes.items():
            described = client.describe_index(index.name, "vector")
            assert described["index_type"] == kind
        exact = indexes["FLAT"].search(workspace="a", vectors=queries, limit=10)
        approx = indexes["HNSW"].search(workspace="a", vectors=queries, limit=10)
        truth = np.argsort(-(queries @ vectors[:2500].T), axis=1)[:, :10] + 1
        for want, flat in zip(truth, exact, strict=True):
            assert [h.id for h in flat] == want.tolist()  # FLAT is exact
        found = sum(len({h.id for h in a} & set(w.tolist())) for a, w in zip(approx, truth,
                                                                             strict=True))
        assert found / truth.size >= 0.95
        for row in approx:
            assert all(h.id <= 2500 for h in row)  # workspace "a" only
    finally:
        MilvusVectorIndex.disconnect(client, uri)
