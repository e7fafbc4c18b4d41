"""A configured reranker reorders the fused candidates of retrieval (here a FAKE reranker
that scores word overlap, over a real Milvus Lite, BM25 and SQLite); one that fails leaves
the fused order and retrieval goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.models.base import Role
from ddq.models.calls import reset_model_stats, stats_for

pytestmark = pytest.mark.integration

DOCS = {
    "encryption.md": "# Encryption\n\nCustomer data is encrypted at rest with AES-256.\n",
    "keys.md": "# Key management\n\nEncryption keys rotate yearly in the key vault.\n",
    "backups.md": "# Backups\n\nBackups are encrypted and copied to a second region nightly.\n",
    "access.md": "# Access\n\nAdministrators use hardware security keys to sign in.\n",
}
QUESTION = "How are encryption keys for backups managed?"


def retrieve(tmp_path: Path, reranker: str | None) -> list:  # type: ignore[type-arg]
    docs = tmp_path / "docs"
    if not docs.exists():
        docs.mkdir()
        for name, text in DOCS.items():
            (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(home=tmp_path / f"home-{reranker}", embedder="fake:hashing-64",
                        reranker=reranker, model_retries=0)
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([docs])
        return kb.retrieve(QUESTION, top_k=4).hits


def test_a_reranker_reorders_the_fused_candidates(tmp_path: Path) -> None:
    reset_model_stats()
    plain = retrieve(tmp_path, None)
    reranked = retrieve(tmp_path, "fake:overlap")
    assert {h.chunk.id for h in plain} == {h.chunk.id for h in reranked}
    assert all(h.rerank_score is None for h in plain)
    scores = [h.rerank_score for h in reranked]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    # The reranker's order, not fusion's: it moved the backups policy up.
    assert [h.chunk.id for h in reranked] != [h.chunk.id for h in plain]
    names = [h.chunk.source_path.rsplit("/", 1)[-1] for h in reranked]
    assert names.index("backups.md") < [h.chunk.source_path.rsplit("/", 1)[-1]
                                        for h in plain].index("backups.md")
    assert stats_for("fake:overlap", Role.RERANKER).calls == 1


def test_a_failing_reranker_leaves_the_fused_order(tmp_path: Path) -> None:
    reset_model_stats()
    plain = retrieve(tmp_path, None)
    fallback = retrieve(tmp_path, "fake:fail")
    assert [h.chunk.id for h in fallback] == [h.chunk.id for h in plain]
    assert all(h.rerank_score is None for h in fallback)
    assert stats_for("fake:fail", Role.RERANKER).errors == 1
