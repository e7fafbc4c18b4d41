"""The keyword index brings itself up to the store: a missing or stale one is rebuilt on
first use, a newer one another knowledge base saved is loaded (not rebuilt), and one that
cannot be written does not stop retrieval. Real SQLite, Milvus Lite and BM25 (FAKE
embedder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.index.keyword import BM25KeywordIndex
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.integration


def write(folder: Path, name: str, marker: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"# {name}\n\nThe {marker} control is reviewed every year.\n")
    return path


def keyword_hits(kb: KnowledgeBase, marker: str) -> list[int]:
    return [h.chunk.id for h in kb.retrieve(marker).hits if h.keyword_rank is not None]


def test_a_missing_keyword_index_is_rebuilt_on_first_use(settings: Settings,
                                                         tmp_path: Path) -> None:
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([write(tmp_path / "docs", "a.md", "zqxalpha")])
    shutil.rmtree(settings.keyword_index_dir)
    with KnowledgeBase(settings) as kb:
        assert len(keyword_hits(kb, "zqxalpha")) == 1
        assert [(r.index, r.had, r.expected) for r in kb.repairs] == [("bm25:default", 0, 1)]
        assert kb.ensure_keyword_index() is None  # current now: nothing more to do


def test_a_newer_index_saved_by_another_knowledge_base_is_loaded(settings: Settings,
                                                                 tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    reader = KnowledgeBase(settings)
    try:
        reader.ingest_paths([write(docs, "a.md", "zqxalpha")])
        loaded = reader.keyword_index
        reader.close()  # Milvus Lite serves one knowledge base at a time; the store reopens
        with KnowledgeBase(settings) as writer:  # another process, as far as files go
            writer.ingest_paths([write(docs, "b.md", "zqxbravo")])
        saved = BM25KeywordIndex(settings.keyword_index_dir / "default")
        assert loaded.state != saved.state  # the reader's copy is behind
        assert reader.ensure_keyword_index() is None  # loaded from disk, not a repair
        assert loaded.state == saved.state
        assert len(loaded.search(["zqxbravo"], 5)[0]) == 1
        assert reader.repairs == []
    finally:
        reader.close()


def test_an_index_that_cannot_be_written_does_not_stop_retrieval(settings: Settings,
                                                                 tmp_path: Path) -> None:
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([write(tmp_path / "docs", "a.md", "zqxalpha")])
    shutil.rmtree(settings.keyword_index_dir)
    settings.keyword_index_dir.write_bytes(b"")  # a file where the folder should be
    with KnowledgeBase(settings) as kb:
        result = kb.retrieve("zqxalpha")  # no error: dense retrieval still answers
        assert result.hits and all(h.keyword_rank is None for h in result.hits)
        settings.keyword_index_dir.unlink()
        repair = kb.ensure_keyword_index()  # the next check repairs it
        assert repair is not None and repair.expected == 1
        assert len(keyword_hits(kb, "zqxalpha")) == 1
