"""One KnowledgeStore contract, run against every relational backend: a SQLite file and a
real PostgreSQL database. A backend is only supported if it passes all of it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from ddq.domain import ChunkDraft, ChunkKind, Location
from ddq.errors import DDQError, ErrorCode
from ddq.store.db import HEAD_REVISION, current_revision, open_engine
from ddq.store.repository import KnowledgeStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'ddq.sqlite3'}"
    # One database per session; each test starts from empty tables.
    url: str = request.getfixturevalue("empty_pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[KnowledgeStore]:
    engine = open_engine(store_url)
    try:
        yield KnowledgeStore(engine)
    finally:
        engine.dispose()


def drafts(*texts: str, library: Sequence[tuple[str, str]] = ()) -> list[ChunkDraft]:
    out = [
        ChunkDraft(
            i,
            t,
            ChunkKind.PASSAGE,
            Location(page=i + 1, heading_path=("Policy", f"Section {i}")),
            10,
        )
        for i, t in enumerate(texts)
    ]
    for question, answer in library:
        out.append(
            ChunkDraft(
                len(out),
                f"Q: {question}\nA: {answer}",
                ChunkKind.LIBRARY,
                Location(sheet="Library", row=len(out) + 2),
                12,
                question=question,
                answer=answer,
                owner="CISO",
            )
        )
    return out


def put(
    store: KnowledgeStore,
    source: str,
    chunks: list[ChunkDraft],
    *,
    workspace: str = "ws",
    content_hash: str = "h1",
) -> tuple[int, list[int], list[int]]:
    with store.transaction() as tx:
        return tx.put_document(
            workspace=workspace,
            source_path=source,
            title=f"Title of {source}",
            format="markdown",
            content_hash=content_hash,
            size_bytes=123,
            chunks=chunks,
            text_hashes=[f"hash-{c.text}" for c in chunks],
        )


def test_put_document_stores_chunks_with_their_details(store: KnowledgeStore) -> None:
    doc_id, ids, old = put(
        store,
        "/kb/policy.md",
        drafts(
            "Data is encrypted.",
            "Backups run daily.",
            library=[("Do you have SOC 2?", "Yes, Type II.")],
        ),
    )
    assert old == []
    assert len(ids) == len(set(ids)) == 3
    [info] = store.documents("ws")
    assert (info.id, info.source_path, info.chunk_count, info.content_hash) == (
        doc_id,
        "/kb/policy.md",
        3,
        "h1",
    )
    assert store.document_hashes("ws") == {"/kb/policy.md": "h1"}
    chunks = store.chunks_by_ids("ws", ids)
    first, _, library = (chunks[i] for i in ids)
    assert (first.text, first.kind, first.ordinal, first.document_id) == (
        "Data is encrypted.",
        ChunkKind.PASSAGE,
        0,
        doc_id,
    )
    assert first.location == Location(page=1, heading_path=("Policy", "Section 0"))
    assert (first.source_path, first.title, first.workspace) == (
        "/kb/policy.md",
        "Title of /kb/policy.md",
        "ws",
    )
    assert first.question is None
    assert library.kind is ChunkKind.LIBRARY
    assert (library.question, library.answer) == ("Do you have SOC 2?", "Yes, Type II.")
    assert library.location.describe() == "sheet 'Library', row 4"
    assert store.library_entry_count("ws") == 1


def test_replace_returns_old_ids_and_never_reuses_them(store: KnowledgeStore) -> None:
    doc_id, first_ids, _ = put(store, "/kb/a.md", drafts("one", "two", "three"))
    same_id, second_ids, old = put(store, "/kb/a.md", drafts("uno", "dos"), content_hash="h2")
    assert same_id == doc_id
    assert old == first_ids
    assert min(second_ids) > max(first_ids)
    assert store.chunks_by_ids("ws", first_ids) == {}
    assert [c.text for c in store.chunks_by_ids("ws", second_ids).values()] == ["uno", "dos"]
    [info] = store.documents("ws")
    assert (info.chunk_count, info.content_hash) == (2, "h2")


def test_delete_document_and_ids_stay_retired(store: KnowledgeStore) -> None:
    doc_id, ids, _ = put(store, "/kb/a.md", drafts("one", "two", library=[("Q?", "A.")]))
    with store.transaction() as tx:
        assert tx.delete_document(doc_id) == ids
        assert tx.find_document("ws", "/kb/a.md") is None
    assert store.documents("ws") == []
    assert store.chunks_by_ids("ws", ids) == {}
    counts = store.counts("ws")
    assert (counts.documents, counts.chunks, counts.library_entries) == (0, 0, 0)
    # A vector index keyed by chunk id must never see a retired id come back.
    _, new_ids, _ = put(store, "/kb/b.md", drafts("three", "four", "five"))
    assert min(new_ids) > max(ids)


def test_chunks_by_ids_filters_by_workspace_and_drops_unknown_ids(store: KnowledgeStore) -> None:
    _, a_ids, _ = put(store, "/kb/shared.md", drafts("alpha one", "alpha two"), workspace="a")
    _, b_ids, _ = put(store, "/kb/shared.md", drafts("beta one"), workspace="b")
    asked = [*a_ids, *b_ids, 987654, a_ids[0]]
    found = store.chunks_by_ids("a", asked)
    assert set(found) == set(a_ids)
    assert {c.workspace for c in found.values()} == {"a"}
    assert set(store.chunks_by_ids("b", asked)) == set(b_ids)
    assert store.chunks_by_ids("nobody", asked) == {}
    assert store.chunks_by_ids("a", []) == {}
    assert store.workspaces() == ["a", "b"]


def test_chunks_by_ids_with_more_ids_than_one_query_takes(store: KnowledgeStore) -> None:
    _, ids, _ = put(store, "/kb/big.md", drafts(*(f"chunk {i}" for i in range(1900))))
    found = store.chunks_by_ids("ws", ids)
    assert len(found) == 1900
    assert found[ids[1234]].text == "chunk 1234"


def test_embedding_cache_round_trip(store: KnowledgeStore) -> None:
    rng = np.random.default_rng(7)
    first = rng.standard_normal(8).astype(np.float32)
    second = rng.standard_normal(8).astype(np.float32)
    store.cache_vectors("model-a", {"h1": first, "h2": second})
    found = store.cached_vectors("model-a", ["h1", "h2", "h-unknown", "h1"])
    assert set(found) == {"h1", "h2"}
    np.testing.assert_array_equal(found["h1"], first)
    np.testing.assert_array_equal(found["h2"], second)
    assert found["h1"].dtype == np.float32
    assert store.cached_vectors("model-b", ["h1"]) == {}  # keyed by model as well
    # A hash already cached keeps its vector; new ones are added beside it.
    store.cache_vectors("model-a", {"h1": np.zeros(8, np.float32), "h3": first})
    again = store.cached_vectors("model-a", ["h1", "h3"])
    np.testing.assert_array_equal(again["h1"], first)
    np.testing.assert_array_equal(again["h3"], first)
    assert store.counts("ws").cached_embeddings == 3
    store.cache_vectors("model-a", {})


def test_counts_per_workspace(store: KnowledgeStore) -> None:
    put(store, "/kb/a.md", drafts("1", "2", library=[("Q1?", "A1."), ("Q2?", "A2.")]))
    put(store, "/kb/b.md", drafts("3"))
    put(store, "/kb/c.md", drafts("4", "5"), workspace="other")
    counts = store.counts("ws")
    assert (counts.documents, counts.chunks, counts.library_entries) == (2, 5, 2)
    other = store.counts("other")
    assert (other.documents, other.chunks, other.library_entries) == (1, 2, 0)
    empty = store.counts("empty")
    assert (empty.documents, empty.chunks, empty.library_entries) == (0, 0, 0)


def test_iter_chunks_in_batches_in_id_order(store: KnowledgeStore) -> None:
    _, a_ids, _ = put(store, "/kb/a.md", drafts("1", "2", "3"))
    _, o_ids, _ = put(store, "/kb/o.md", drafts("x", "y"), workspace="other")
    _, b_ids, _ = put(store, "/kb/b.md", drafts("4", "5"))
    batches = list(store.iter_chunks("ws", batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert [c.id for b in batches for c in b] == [*a_ids, *b_ids]
    everything = [c.id for b in store.iter_chunks(None, batch_size=3) for c in b]
    assert everything == sorted([*a_ids, *o_ids, *b_ids])
    assert list(store.iter_chunks("empty")) == []


def test_audit_rows_are_appended(store: KnowledgeStore) -> None:
    with store.transaction() as tx:
        tx.audit(workspace="ws", action="document.added", subject="/kb/a.md", detail={"chunks": 3})
    with store.transaction() as tx:
        tx.audit(
            workspace="ws",
            action="document.removed",
            subject="/kb/a.md",
            detail={"chunks": 3},
            actor="api",
        )
        tx.audit(workspace="other", action="document.added", subject="/kb/z.md", detail={})
    rows = store.audit_entries("ws")
    assert [(r.action, r.subject, r.actor, r.detail) for r in rows] == [
        ("document.added", "/kb/a.md", "cli", {"chunks": 3}),
        ("document.removed", "/kb/a.md", "api", {"chunks": 3}),
    ]
    assert rows[0].id < rows[1].id
    assert rows[0].at is not None
    assert len(store.audit_entries("other")) == 1


def test_migrations_are_idempotent(store_url: str) -> None:
    engine = open_engine(store_url)
    try:
        assert current_revision(engine) == HEAD_REVISION
        put(KnowledgeStore(engine), "/kb/a.md", drafts("kept"))
    finally:
        engine.dispose()
    again = open_engine(store_url)  # already at head: must not fail or touch the data
    try:
        assert current_revision(again) == HEAD_REVISION
        [info] = KnowledgeStore(again).documents("ws")
        assert info.chunk_count == 1
    finally:
        again.dispose()


def test_an_error_inside_a_transaction_leaves_the_previous_state(store: KnowledgeStore) -> None:
    _, ids, _ = put(store, "/kb/a.md", drafts("original one", "original two"))

    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put_document(
            workspace="ws",
            source_path="/kb/a.md",
            title="new",
            format="text",
            content_hash="h2",
            size_bytes=1,
            chunks=drafts("replacement"),
            text_hashes=["x"],
        )
        tx.put_document(
            workspace="ws",
            source_path="/kb/new.md",
            title="new",
            format="text",
            content_hash="h3",
            size_bytes=1,
            chunks=drafts("brand new"),
            text_hashes=["y"],
        )
        tx.audit(workspace="ws", action="document.updated", subject="/kb/a.md", detail={})
        raise RuntimeError("the vector index failed")

    with pytest.raises(DDQError) as caught, store.transaction() as tx:
        tx.delete_document(store.documents("ws")[0].id)
        tx.session.execute(text("SELECT no_such_column FROM documents"))
    assert caught.value.code is ErrorCode.STORE_ERROR

    [info] = store.documents("ws")
    assert (info.source_path, info.content_hash, info.chunk_count) == ("/kb/a.md", "h1", 2)
    assert [c.text for c in store.chunks_by_ids("ws", ids).values()] == [
        "original one",
        "original two",
    ]
    assert store.counts("ws").chunks == 2
    assert store.audit_entries("ws") == []


def test_same_source_in_two_workspaces_are_two_documents(store: KnowledgeStore) -> None:
    a_doc, _, _ = put(store, "/kb/a.md", drafts("x"), workspace="a")
    b_doc, _, _ = put(store, "/kb/a.md", drafts("y"), workspace="b")
    assert a_doc != b_doc
    with store.transaction() as tx:
        tx.delete_document(a_doc)
    assert store.documents("a") == []
    assert [d.id for d in store.documents("b")] == [b_doc]
