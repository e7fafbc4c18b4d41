"""Changing DDQ_EMBEDDER on a knowledge base built with another model: a clear error that
says what to do (instead of dense retrieval quietly finding nothing), and `reindex` as the
way to move. Milvus Lite and SQLite are real; the embedders are the named hashing fakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.integration

KNOWLEDGE = Path(__file__).resolve().parents[2] / "examples" / "knowledge"
QUESTION = "Do you encrypt data at rest?"


def test_another_embedder_is_refused_until_reindexed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    built = KnowledgeBase(Settings(home=home, embedder="fake:hashing-64"))
    built.ingest_paths([KNOWLEDGE])
    assert any(hit.dense_rank is not None for hit in built.retrieve(QUESTION).hits)
    chunks = built.status().chunks
    built.close()

    switched = KnowledgeBase(Settings(home=home, embedder="fake:hashing-32"))
    try:
        with pytest.raises(DDQError) as refused:
            switched.ask(QUESTION)
        assert refused.value.code is ErrorCode.INDEX_ERROR
        assert "ddq_chunks_fake_hashing_64_64" in str(refused.value)
        assert "ddq reindex" in str(refused.value)
        extra = tmp_path / "extra.md"
        extra.write_text("# Backups\n\nBackups are encrypted and tested every quarter.\n")
        with pytest.raises(DDQError, match="ddq reindex"):
            switched.ingest_paths([extra])
        assert switched.status().chunks == chunks  # nothing half-written

        counts = switched.reindex()
        assert counts["chunks"] == chunks
        assert switched.chunk_index.count() == chunks
        hits = switched.retrieve(QUESTION).hits
        assert any(hit.dense_rank is not None for hit in hits)  # dense retrieval is back
    finally:
        switched.close()
