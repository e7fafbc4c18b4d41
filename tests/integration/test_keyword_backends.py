"""One contract for both keyword indexes: bm25s files (one per process) and Milvus's own BM25
(one for every process, in the Milvus of the vectors). Real bm25s, real Milvus Lite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ddq.config import Settings
from ddq.errors import DDQError
from ddq.index.keyword import BM25KeywordIndex
from ddq.index.milvus_keyword import MilvusKeywordIndex, keyword_index_for
from ddq.index.vector import MilvusVectorIndex
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.integration

MakeIndex = Callable[[str], BM25KeywordIndex]

CORPUS = [
    (3, "Customer data is encrypted at rest with AES-256 and keys are rotated yearly."),
    (5, "Backups are taken daily and kept for 35 days in a second region."),
    (8, "Multi-factor authentication is required for every administrator."),
    (9, "Encryption keys are held in a hardware security module."),
    (12, "The incident response plan is tested every year with a tabletop exercise."),
]


@pytest.fixture(params=["bm25s", "milvus"])
def make_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeIndex]:
    """A keyword index per workspace, of each backend; the Milvus ones share a collection."""
    uri = str(tmp_path / "milvus.db")
    client: list[Any] = []

    def connect() -> Any:
        if not client:
            client.append(MilvusVectorIndex.connect(uri))
        return client[0]

    def make(workspace: str) -> BM25KeywordIndex:
        return keyword_index_for(
            str(request.param), uri, connect, workspace, tmp_path / "keyword" / workspace
        )

    yield make
    if client:
        MilvusVectorIndex.disconnect(client[0], uri)


def test_search_ranks_by_bm25_and_stems_english(make_index: MakeIndex) -> None:
    index = make_index("default")
    assert index.rebuild(CORPUS) == 5
    [encrypted], [backup], [nothing] = (
        index.search([q], 10) for q in ("encrypting keys", "backup", "quantum")
    )
    # "encrypting" finds "encrypted" and "encryption" (stems), "keys" both key chunks.
    assert {h.id for h in encrypted} == {3, 9}
    assert [h.id for h in backup] == [5]
    assert nothing == []
    assert all(h.score > 0 for h in encrypted)
    assert index.search(["the and of"], 10) == [[]]  # stop words only: nothing to look for


def test_state_follows_the_pairs_and_workspaces_stay_apart(make_index: MakeIndex) -> None:
    a, b = make_index("a"), make_index("b")
    a.rebuild(CORPUS)
    b.rebuild([(20, "Backups of workspace b are kept seven years.")])
    assert a.state == (5, 12) and a.size == 5
    assert b.state == (1, 20)
    assert [h.id for h in a.search(["backups"], 10)[0]] == [5]
    assert [h.id for h in b.search(["backups"], 10)[0]] == [20]
    a.rebuild(CORPUS[:2])  # three chunks removed
    assert a.state == (2, 5)
    assert a.search(["encryption keys module"], 10)[0][0].id == 3
    assert {h.id for h in a.search(["administrator"], 10)[0]} == set()
    assert b.state == (1, 20)  # the other workspace is untouched
    a.rebuild([])
    assert a.state == (0, 0) and a.search(["backups"], 10) == [[]]


def test_idf_weighs_rare_terms_more(make_index: MakeIndex) -> None:
    index = make_index("default")
    index.rebuild(CORPUS)
    stems = index.stem_terms("keys tabletop unheardof")
    weights = index.idf(stems)
    key, tabletop, unknown = (weights[s] for s in stems)
    assert tabletop > key > 0  # one chunk says "tabletop", two say "keys"
    assert unknown == 0.0


def test_milvus_ranks_as_bm25s_does(tmp_path: Path) -> None:
    """The Milvus index stores bm25s's terms and uses its k1 and b, so on one workspace the
    two rank alike and weigh terms the same (the scores themselves differ: Milvus's
    statistics are the collection's, its state row included, which on 8 chunks is felt)."""
    texts = [
        (i + 1, f"{w} control {' '.join(['review'] * (i % 4))} evidence {w} policy")
        for i, w in enumerate(
            [
                "access",
                "backup",
                "encryption",
                "logging",
                "vendor",
                "network",
                "access review",
                "backup restore",
            ]
        )
    ]
    uri = str(tmp_path / "milvus.db")
    client = MilvusVectorIndex.connect(uri)
    try:
        local = BM25KeywordIndex(tmp_path / "kw")
        shared = MilvusKeywordIndex(client, "default")
        local.rebuild(texts)
        shared.rebuild(texts)
        queries = ["access review", "backup policy", "encryption evidence", "vendor network"]
        for mine, theirs in zip(local.search(queries, 5), shared.search(queries, 5), strict=True):
            assert [h.id for h in mine] == [h.id for h in theirs]
            scores = [h.score for h in theirs]
            assert scores == sorted(scores, reverse=True) and scores[-1] > 0
        stems = local.stem_terms("access backup review unheardof")
        assert shared.idf(stems) == pytest.approx(local.idf(stems))
    finally:
        MilvusVectorIndex.disconnect(client, uri)


@pytest.mark.parametrize("backend", ["bm25s", "milvus"])
def test_ingest_remove_reindex_and_status(tmp_path: Path, backend: str) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    keys = docs / "keys.md"
    keys.write_text("# Keys\n\nCustomer-managed zqxkeys are supported.\n")
    (docs / "backup.md").write_text("# Backups\n\nBackups are encrypted and kept 35 days.\n")
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64", keyword_index=backend)  # type: ignore[arg-type]
    with KnowledgeBase(settings) as kb:
        kind = MilvusKeywordIndex if backend == "milvus" else BM25KeywordIndex
        assert type(kb.keyword_index) is kind
        kb.ingest_paths([docs])
        hits = [h for h in kb.retrieve("zqxkeys").hits if h.keyword_rank is not None]
        assert [h.chunk.source_path for h in hits] == [str(keys.resolve())]
        assert all(index.in_sync for index in kb.status().indexes)
        kb.remove(str(keys))
        assert not [h for h in kb.retrieve("zqxkeys").hits if h.keyword_rank is not None]
        assert kb.reindex()["keyword"] == 1
        assert all(index.in_sync for index in kb.status().indexes)
    assert (settings.keyword_index_dir.exists()) == (backend == "bm25s")


def test_a_keyword_index_behind_the_store_is_repaired(tmp_path: Path) -> None:
    """A process killed between the store and the Milvus keyword index leaves it behind: the
    next check finds it (count and highest id) and brings it up to the store."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nThe zqxalpha control is reviewed.\n")
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64", keyword_index="milvus")
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([docs])
        kb.keyword_index.rebuild([])  # as if the index had never been written
        assert kb.keyword_index.state == (0, 0)
    with KnowledgeBase(settings) as kb:
        assert [h.keyword_rank for h in kb.retrieve("zqxalpha").hits] == [1]
        assert [(r.index, r.had, r.expected) for r in kb.repairs] == [("bm25:default", 0, 1)]


def test_milvus_keyword_index_on_a_server_without_bm25_is_one_clear_line() -> None:
    class OldServer:  # a fake: what a Milvus 2.3 server answers (no BM25 function)
        def get_server_version(self) -> str:
            return "v2.3.5"

        def has_collection(self, name: str) -> bool:
            return False

    index = MilvusKeywordIndex(OldServer(), "default")
    with pytest.raises(DDQError, match=r"version v2.3.5\) has no BM25.*DDQ_KEYWORD_INDEX=bm25s"):
        index.rebuild([(1, "text")])
    chosen = keyword_index_for("auto", "http://milvus:19530", OldServer, "default", Path("unused"))
    assert type(chosen) is BM25KeywordIndex
