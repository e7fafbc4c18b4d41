"""The ingestion pipeline end to end with real Milvus Lite, SQLite and BM25 (and the FAKE
hashing embedder, since none of this is about the model)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ddq.config import Settings
from ddq.domain import AnswerStatus, ChunkKind
from ddq.errors import DDQError, ErrorCode
from ddq.index.vector import MilvusVectorIndex
from ddq.ingest import pipeline as pipeline_module
from ddq.ingest.pipeline import Outcome
from ddq.kb import KnowledgeBase
from ddq.models.fake import FakeHashingEmbedder

pytestmark = pytest.mark.integration


def outcomes(report) -> dict[str, Outcome]:
    return {Path(r.source).name: r.outcome for r in report.results}


def store_ids(kb: KnowledgeBase) -> set[int]:
    return {c.id for batch in kb.store.iter_chunks(kb.workspace) for c in batch}


def chunks_by_file(kb: KnowledgeBase) -> dict[str, list]:
    out: dict[str, list] = {}
    for batch in kb.store.iter_chunks(kb.workspace):
        for chunk in batch:
            out.setdefault(Path(chunk.source_path).name, []).append(chunk)
    return out


def assert_in_sync(kb: KnowledgeBase) -> None:
    for health in kb.status().indexes:
        assert health.in_sync, health


def test_ingest_a_folder_of_mixed_files(
    kb: KnowledgeBase, knowledge_folder: Path, samples, milvus_ids
) -> None:
    samples.raw("logo.png", b"\x89PNG\r\n\x1a\n")
    samples.text(".draft.md", "# Hidden draft\n\nNot for ingestion.\n")
    report = kb.ingest_paths([knowledge_folder])

    assert outcomes(report) == {
        "answers.xlsx": Outcome.ADDED,
        "continuity.txt": Outcome.ADDED,
        "hr.docx": Outcome.ADDED,
        "incident.pdf": Outcome.ADDED,
        "library.csv": Outcome.ADDED,
        "privacy.html": Outcome.ADDED,
        "security.md": Outcome.ADDED,
        "logo.png": Outcome.SKIPPED,
    }
    formats = {Path(d.source_path).name: d.format for d in kb.store.documents("default")}
    assert formats == {
        "answers.xlsx": "xlsx",
        "continuity.txt": "text",
        "hr.docx": "docx",
        "incident.pdf": "pdf",
        "library.csv": "csv",
        "privacy.html": "html",
        "security.md": "markdown",
    }
    chunks = chunks_by_file(kb)
    assert [(c.location.page, c.text) for c in chunks["incident.pdf"]] == [
        (1, "Incident response plan."),
        (2, "Customers are notified of breaches within 72 hours."),
    ]
    assert [(c.kind, c.location.sheet, c.location.row) for c in chunks["answers.xlsx"]] == [
        (ChunkKind.LIBRARY, "Vendor", 2)
    ]
    assert [c.location.row for c in chunks["library.csv"]] == [2, 3]
    assert chunks["security.md"][0].location.heading_path == ("Security Policy", "Encryption")

    all_ids = store_ids(kb)
    assert milvus_ids(kb.chunk_index) == all_ids
    library_ids = {c.id for c in (*chunks["library.csv"], *chunks["answers.xlsx"])}
    assert milvus_ids(kb.question_index) == library_ids
    assert kb.keyword_index.size == len(all_ids)
    assert_in_sync(kb)

    hits = kb.retrieve("When are customers notified of breaches?").hits
    assert hits[0].chunk.citation_label().endswith("incident.pdf (p. 2)")
    assert hits[0].dense_rank is not None and hits[0].keyword_rank is not None


def test_files_are_read_again_after_the_loaders_change(
    settings: Settings, knowledge_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([knowledge_folder])
    monkeypatch.setattr(pipeline_module, "LOADER_VERSION", "next")
    with KnowledgeBase(settings) as kb:
        again = kb.ingest_paths([knowledge_folder])
        # Same bytes, new loaders: every file is parsed again, and the unchanged chunk
        # texts come from the embedding cache rather than the model.
        assert set(outcomes(again).values()) == {Outcome.UPDATED}
        assert again.embedded_texts == 0 and again.cached_texts > 0


def test_reingesting_unchanged_files_embeds_nothing(
    settings: Settings, knowledge_folder: Path
) -> None:
    with KnowledgeBase(settings) as kb:
        first = kb.ingest_paths([knowledge_folder])
        assert first.embedded_texts > 0
        ids_before = store_ids(kb)

    embedder = FakeHashingEmbedder()
    with KnowledgeBase(settings, embedder=embedder) as kb:
        again = kb.ingest_paths([knowledge_folder])
        assert set(outcomes(again).values()) == {Outcome.UNCHANGED}
        assert len(again.results) == 7
        assert embedder.calls == 0
        assert (again.embedded_texts, again.chunks_written) == (0, 0)
        assert store_ids(kb) == ids_before

    with KnowledgeBase(settings) as kb:  # nor is the configured model even resolved
        kb.ingest_paths([knowledge_folder])
        assert kb._embedder is None


def test_a_changed_file_replaces_its_chunks(settings: Settings, samples, milvus_ids) -> None:
    policy = samples.text(
        "policy.md",
        "# Backups\n\nBackups are sealed with zebracrypt.\n\nCopies live in two regions.\n",
    )
    samples.text("other.md", "# Office\n\nThe office opens at nine.\n")
    embedder = FakeHashingEmbedder()
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.ingest_paths([samples.folder])
        old_ids = {c.id for c in chunks_by_file(kb)["policy.md"]}
        embedded_before = embedder.texts_embedded

        policy.write_text(
            "# Backups\n\nBackups are sealed with quokkacipher.\n\nCopies live in two regions.\n"
        )
        report = kb.ingest_paths([samples.folder])
        assert outcomes(report) == {"policy.md": Outcome.UPDATED, "other.md": Outcome.UNCHANGED}
        assert embedder.texts_embedded - embedded_before == 1  # only the changed chunk

        new_ids = {c.id for c in chunks_by_file(kb)["policy.md"]}
        assert new_ids.isdisjoint(old_ids)
        assert min(new_ids) > max(old_ids)
        assert milvus_ids(kb.chunk_index) == store_ids(kb)
        assert kb.keyword_index.search(["zebracrypt"], 10) == [[]]
        for hit in kb.retrieve("zebracrypt sealed backups").hits:
            assert "zebracrypt" not in hit.chunk.text
        top = kb.retrieve("quokkacipher").hits[0]
        assert "quokkacipher" in top.chunk.text
        actions = [r.action for r in kb.store.audit_entries("default")]
        assert actions.count("document.added") == 2
        assert actions.count("document.updated") == 1
        assert_in_sync(kb)


def test_a_bad_file_is_reported_by_name_and_the_rest_ingested(kb: KnowledgeBase, samples) -> None:
    good = samples.text("good.md", "# Hosting\n\nWe host in Frankfurt.\n")
    bad = {
        samples.encrypted_pdf("secret.pdf"): "password-protected",
        samples.ole("locked.docx"): "password-protected",
        samples.raw("empty.txt", b""): "empty",
        samples.text("headings.md", "# Only a heading\n"): "no text to index",
        samples.xlsx("people.xlsx", {"Data": [["Name", "Email"], ["Ada", "a@example.com"]]}):
            "columns seen",
    }
    missing = samples.folder / "gone.md"
    report = kb.ingest_paths([samples.folder, missing])

    results = {r.source: r for r in report.results}
    assert results[str(good.resolve())].outcome is Outcome.ADDED
    for path, reason in bad.items():
        result = results[str(path.resolve())]
        assert result.outcome is Outcome.FAILED
        assert str(path.resolve()) in result.detail or path.name in result.detail
        assert reason in result.detail
    assert results[str(missing)].outcome is Outcome.FAILED
    assert [Path(d.source_path).name for d in kb.store.documents("default")] == ["good.md"]
    assert kb.retrieve("Where do you host?").hits[0].chunk.source_path == str(good.resolve())

    # Failures are not remembered as done: the next run tries them again.
    again = kb.ingest_paths([samples.folder])
    assert outcomes(again)["good.md"] is Outcome.UNCHANGED
    assert outcomes(again)["secret.pdf"] is Outcome.FAILED


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[pytest.mark.postgres],
        ),
    ],
)
def test_a_nul_byte_in_one_file_does_not_sink_the_batch(
    request: pytest.FixtureRequest, tmp_path: Path, samples, backend: str
) -> None:
    url = request.getfixturevalue("empty_pg_url") if backend == "postgresql" else None
    settings = Settings(home=tmp_path / "home", database_url=url, embedder="fake:hashing-64")
    good = samples.text("good.md", "# Security\n\n- Customer data is encrypted at rest.\n")
    samples.raw("export.txt", b"Backups are taken daily. " * 250 + b"\x00 end of export.")
    with KnowledgeBase(settings) as kb:
        report = kb.ingest_paths([samples.folder])
        assert outcomes(report)["good.md"] is Outcome.ADDED, report.results
        assert str(good.resolve()) in [d.source_path for d in kb.store.documents("default")]
        assert kb.retrieve("Is customer data encrypted?").hits


class FailingMilvusVectorIndex(MilvusVectorIndex):
    """A FAKE that misbehaves on purpose: the inserts numbered in ``fail_on`` (1-based) raise,
    either before writing anything (Milvus refused) or after their rows were written (a
    time-out on a write the server did apply); the others really happen."""

    def __init__(self, real: MilvusVectorIndex, *, fail_on: set[int], writes_first: bool) -> None:
        super().__init__(real._client, real.name, real.dimension)
        self.fail_on = fail_on
        self.writes_first = writes_first
        self.inserts = 0

    def insert(
        self,
        *,
        workspace: str,
        ids: Sequence[int],
        document_ids: Sequence[int],
        vectors: np.ndarray,
    ) -> None:
        self.inserts += 1
        failing = self.inserts in self.fail_on
        if not failing or self.writes_first:
            super().insert(workspace=workspace, ids=ids, document_ids=document_ids, vectors=vectors)
        if failing:
            raise DDQError(ErrorCode.INDEX_ERROR, "Milvus insert failed (deliberately)")


@pytest.mark.parametrize("writes_first", [False, True], ids=["refused", "written-then-failed"])
def test_a_failing_vector_index_leaves_store_and_index_as_before(
    kb: KnowledgeBase, samples, milvus_ids, search_snapshot, writes_first: bool
) -> None:
    first = samples.text("a.md", "# Backups\n\nBackups are encrypted and kept 35 days.\n")
    samples.text("b.md", "# Access\n\nStaff use hardware security keys.\n")
    kb.ingest_paths([samples.folder])
    queries = ["How long are backups kept?", "hardware security keys", "zebracrypt"]
    documents = kb.store.documents("default")
    ids = store_ids(kb)
    in_milvus = milvus_ids(kb.chunk_index)
    results = search_snapshot(kb, queries)

    # One changed file and one new file in the same group, written to Milvus in one insert,
    # which fails (in the written-then-failed case, after both documents' rows are in).
    first.write_text("# Backups\n\nBackups are sealed with zebracrypt and kept 90 days.\n")
    samples.text("c.md", "# Vendors\n\nSubprocessors are reviewed yearly.\n")
    failing = FailingMilvusVectorIndex(kb.chunk_index, fail_on={1, 2, 3},
                                       writes_first=writes_first)
    kb.chunk_index = failing
    report = kb.ingest_paths([samples.folder])

    # After the group failed, each document was retried on its own (and failed again).
    assert failing.inserts == 3
    assert outcomes(report) == {
        "a.md": Outcome.FAILED,
        "b.md": Outcome.UNCHANGED,
        "c.md": Outcome.FAILED,
    }
    assert all("deliberately" in r.detail for r in report.results if r.outcome is Outcome.FAILED)
    assert kb.store.documents("default") == documents
    assert store_ids(kb) == ids
    assert milvus_ids(failing) == in_milvus
    assert search_snapshot(kb, queries) == results
    assert not any(r.action == "document.updated" for r in kb.store.audit_entries("default"))
    assert_in_sync(kb)


@pytest.mark.parametrize("writes_first", [False, True], ids=["refused", "written-then-failed"])
def test_one_document_failing_in_milvus_does_not_sink_its_group(
    kb: KnowledgeBase, samples, milvus_ids, writes_first: bool
) -> None:
    samples.text("a.md", "# Backups\n\nBackups are encrypted and kept 35 days.\n")
    samples.text("b.md", "# Access\n\nStaff use hardware security keys.\n")
    # The group's one insert fails; then a.md alone succeeds and b.md alone fails.
    failing = FailingMilvusVectorIndex(kb.chunk_index, fail_on={1, 3}, writes_first=writes_first)
    kb.chunk_index = failing
    report = kb.ingest_paths([samples.folder])

    assert failing.inserts == 3
    assert outcomes(report) == {"a.md": Outcome.ADDED, "b.md": Outcome.FAILED}
    assert [Path(d.source_path).name for d in kb.store.documents("default")] == ["a.md"]
    assert milvus_ids(failing) == store_ids(kb)
    assert kb.retrieve("How long are backups kept?").hits[0].chunk.text.startswith("Backups")
    assert_in_sync(kb)


class FailingEmbedder(FakeHashingEmbedder):
    """A FAKE embedder that fails on purpose on the embedding calls numbered in ``fail_on``,
    as a remote model that keeps timing out would (after its retries)."""

    def __init__(self, fail_on: set[int]) -> None:
        super().__init__()
        self.fail_on = fail_on

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls + 1 in self.fail_on:
            self.calls += 1
            raise DDQError(ErrorCode.MODEL_UNAVAILABLE, "the model timed out (deliberately)")
        return super().embed_batch(texts)


def test_a_group_whose_embedding_fails_is_reported_and_the_next_groups_are_stored(
    settings: Settings, samples, milvus_ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One document per group, so the second group's embedding (on the worker thread, while
    # the first group is written) is the one that fails.
    monkeypatch.setattr(pipeline_module, "GROUP_CHUNKS", 1)
    for name, text in [("a.md", "Backups are encrypted."), ("b.md", "Keys rotate yearly."),
                       ("c.md", "Vendors are reviewed.")]:
        samples.text(name, f"# {name}\n\n{text}\n")
    embedder = FailingEmbedder(fail_on={2})
    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = kb.ingest_paths([samples.folder])

        assert outcomes(report) == {"a.md": Outcome.ADDED, "b.md": Outcome.FAILED,
                                    "c.md": Outcome.ADDED}
        failed = next(r for r in report.results if r.outcome is Outcome.FAILED)
        assert failed.detail == "embedding failed: the model timed out (deliberately)"
        assert report.embedded_texts == 2
        assert sorted(Path(d.source_path).name for d in kb.store.documents("default")) == [
            "a.md", "c.md"]
        assert milvus_ids(kb.chunk_index) == store_ids(kb)
        assert_in_sync(kb)

        again = kb.ingest_paths([samples.folder])  # the failed file is picked up next time
        assert outcomes(again) == {"a.md": Outcome.UNCHANGED, "b.md": Outcome.ADDED,
                                   "c.md": Outcome.UNCHANGED}


def test_remove_deletes_from_store_milvus_and_bm25(
    kb: KnowledgeBase, knowledge_folder: Path, milvus_ids
) -> None:
    kb.ingest_paths([knowledge_folder])
    library = knowledge_folder / "library.csv"
    removed_ids = {c.id for c in chunks_by_file(kb)["library.csv"]}
    question = "Do you have a SOC 2 Type II report?"
    assert kb.ask(question).status is AnswerStatus.LIBRARY

    assert kb.remove(str(library)) == 2
    assert "library.csv" not in chunks_by_file(kb)
    assert milvus_ids(kb.chunk_index).isdisjoint(removed_ids)
    assert milvus_ids(kb.question_index).isdisjoint(removed_ids)
    assert milvus_ids(kb.chunk_index) == store_ids(kb)
    assert kb.keyword_index.search(["SOC"], 50) == [[]]
    for hit in kb.retrieve(question).hits:
        assert hit.chunk.id not in removed_ids
    assert kb.ask(question).status is not AnswerStatus.LIBRARY
    assert kb.store.audit_entries("default")[-1].action == "document.removed"
    assert_in_sync(kb)

    with pytest.raises(DDQError) as caught:
        kb.remove(str(library))
    assert caught.value.code is ErrorCode.NOT_FOUND
    assert "library.csv" in caught.value.detail

    # Ingesting it again costs no embedding: the cache still knows the texts.
    again = kb.ingest_paths([library])
    assert outcomes(again) == {"library.csv": Outcome.ADDED}
    assert again.embedded_texts == 0 and again.cached_texts > 0
    assert kb.ask(question).status is AnswerStatus.LIBRARY


def test_reindex_rebuilds_every_index_from_the_store_alone(
    settings: Settings, knowledge_folder: Path, milvus_ids, search_snapshot
) -> None:
    queries = [
        "Is customer data encrypted at rest?",
        "breach notification",
        "penetration testing",
        "Do you have a SOC 2 Type II report?",
    ]
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([knowledge_folder])
        before = search_snapshot(kb, queries)
        library_before = [[m.chunk.id for m in kb.retrieve(q).library_matches] for q in queries]
        ids = store_ids(kb)
        kb.chunk_index.drop()
        kb.question_index.drop()
    shutil.rmtree(settings.keyword_index_dir)

    embedder = FakeHashingEmbedder()
    with KnowledgeBase(settings, embedder=embedder) as kb:
        # The vectors are really gone. The keyword index, derived from the store as they are,
        # repairs itself on first use (derived state repairs itself), so what is still found
        # is found by keyword alone.
        assert all(dense is None for r in search_snapshot(kb, queries) for _, dense, _ in r)
        assert kb.repairs and kb.repairs[0].index == "bm25:default"
        assert not kb.status().indexes[0].in_sync
        calls_before = embedder.calls  # the searches above embedded their queries
        counts = kb.reindex()
        assert counts["chunks"] == counts["keyword"] == len(ids)
        assert counts["library_questions"] == 3
        assert counts["embedded"] == 0  # every vector comes from the cache
        assert embedder.calls == calls_before
        assert milvus_ids(kb.chunk_index) == ids
        assert search_snapshot(kb, queries) == before
        assert [
            [m.chunk.id for m in kb.retrieve(q).library_matches] for q in queries
        ] == library_before
        assert kb.store.audit_entries("default")[-1].action == "index.rebuilt"
        assert_in_sync(kb)


@pytest.mark.postgres
def test_ingest_on_postgresql(
    tmp_path: Path, empty_pg_url: str, knowledge_folder: Path, milvus_ids
) -> None:
    settings = Settings(
        home=tmp_path / "pghome", database_url=empty_pg_url, embedder="fake:hashing-64"
    )
    with KnowledgeBase(settings) as kb:
        report = kb.ingest_paths([knowledge_folder])
        assert report.count(Outcome.ADDED) == 7
        assert kb.store.engine.dialect.name == "postgresql"
        assert milvus_ids(kb.chunk_index) == store_ids(kb)
        assert kb.ask("Do you have a SOC 2 Type II report?").status is AnswerStatus.LIBRARY
        assert_in_sync(kb)
    with KnowledgeBase(settings) as kb:
        assert set(outcomes(kb.ingest_paths([knowledge_folder])).values()) == {Outcome.UNCHANGED}
