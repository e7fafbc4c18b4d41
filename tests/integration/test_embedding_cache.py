"""The embedding cache, keyed by model and content hash and persisted in the store: rebuilding
the index of an ingested corpus asks the model for nothing, even in a new process."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.models.base import Role
from ddq.models.calls import reset_model_stats, stats_for
from ddq.models.registry import resolve_embedder

pytestmark = pytest.mark.integration

MODEL = "fake:hashing-48"


TOPICS = {
    "encryption": "Customer data is encrypted at rest with AES-256; keys rotate yearly.",
    "backups": "Backups run nightly and a restore is tested every quarter.",
    "access": "Multi-factor authentication is required for administrators.",
    "incidents": "Incidents are triaged within one hour by the on-call engineer.",
    "vendors": "Subprocessors are assessed before onboarding and reviewed annually.",
    "training": "Staff complete security awareness training when they join.",
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir()
    for topic, text in TOPICS.items():
        (folder / f"{topic}.md").write_text(f"# {topic.title()} policy\n\n{text}\n",
                                            encoding="utf-8")
    return folder


def test_a_warm_reindex_makes_no_model_call_and_a_cold_one_does(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder=MODEL)
    corpus = write_corpus(tmp_path / "docs")
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([corpus])
        chunks = kb.store.counts(kb.workspace).chunks
    reset_model_stats()
    resolve_embedder.cache_clear()  # as a new process would: nothing held in memory
    with KnowledgeBase(settings) as kb:
        warm = kb.reindex()
        stats = stats_for(MODEL, Role.EMBEDDER)
        assert (stats.calls, warm["embedded"]) == (0, 0)
        assert warm["cached"] == warm["chunks"] == chunks
        assert stats.cache_hits >= chunks
        hits = kb.retrieve("How often is a restore from backups tested?").hits
        assert hits and hits[0].chunk.source_path.endswith("backups.md")

        calls, items = stats.calls, stats.items  # the search above embedded its question
        assert kb.store.clear_cached_vectors(MODEL) >= chunks
        cold = kb.reindex()
        assert cold["embedded"] == chunks
        assert stats.calls > calls
        assert stats.items - items == chunks  # each distinct text once
