"""Crash consistency of ingestion: a real ingestion process is killed with SIGKILL at each
stage boundary, and the next plain ``ddq ingest`` (no ``reindex``) leaves the store, Milvus
and the keyword index holding the same chunks, with every document's unique term found by
keyword exactly once. Real processes, SQLite, Milvus Lite and BM25; the FAKE embedder.

The kill points: before the commit (parsed and chunked); inside the vector write (the
vectors written, the transaction not committed: SQLite hands the same chunk ids out again);
after the commit, before the flush; after the commit with the vectors lost (a vector index
that acknowledged writes it did not keep, named below as the deliberate misbehaviour it is);
after the vectors, before the keyword index.

The kill is injected by a small driver script (written by the test, run as its own process)
that ingests through the real pipeline and kills itself at the chosen point: no hook in the
production code."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.index.keyword import BM25KeywordIndex
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.e2e

FIRST, SECOND = range(0, 10), range(10, 20)

#: The driver: ingests FOLDER into HOME and SIGKILLs itself at POINT.
DRIVER = textwrap.dedent('''
    import os, signal, sys
    from pathlib import Path
    from ddq.config import Settings
    from ddq.index.keyword import BM25KeywordIndex
    from ddq.index.vector import MilvusVectorIndex
    from ddq.kb import KnowledgeBase
    from ddq.ingest.pipeline import discover_files, file_items

    home, folder, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    class KillAfterCommit:
        """The pipeline reports a new file done once its group is committed: dies at the
        last file (the unchanged ones are reported first)."""
        def start(self, total): self.left = total
        def advance(self, label):
            self.left -= 1
            if self.left == 0:
                die()
        def finish(self): pass

    kb = KnowledgeBase(Settings(home=home, embedder="fake:hashing-64"))
    files, _ = discover_files([folder])
    insert = MilvusVectorIndex.insert
    if point == "before_commit":
        def items():
            for n, item in enumerate(file_items(files)):
                if n == len(files) - 1:
                    die()  # every other file parsed and chunked, nothing committed
                yield item
        kb.ingest_items(items(), total=len(files))
    elif point == "inside_vectors":
        # The chunks' vectors are written (not flushed), the transaction not committed yet.
        def insert_then_die(self, **kwargs):
            insert(self, **kwargs)
            if self.name.startswith("ddq_chunks_"):
                die()
        MilvusVectorIndex.insert = insert_then_die
        kb.ingest_paths([folder])
    elif point == "after_commit":
        kb.ingest_paths([folder], progress=KillAfterCommit())
    elif point == "vectors_lost":
        # DELIBERATE MISBEHAVIOUR: a vector index that acknowledges writes and loses them
        # (a server that crashed before persisting them, a disk that turned read-only), and
        # a process killed after the commit, before anything could notice.
        MilvusVectorIndex.insert = lambda self, **kwargs: None
        kb.ingest_paths([folder], progress=KillAfterCommit())
    elif point == "after_vectors":
        # The vectors are written and flushed; the keyword rebuild is where it dies.
        BM25KeywordIndex.rebuild = lambda self, items: die()
        kb.ingest_paths([folder])
    raise SystemExit("the driver was meant to be killed")
''')


def term(i: int) -> str:
    return f"zqx{i:03d}marker"


def write_documents(folder: Path, numbers: range) -> None:
    folder.mkdir(exist_ok=True)
    for i in numbers:
        (folder / f"policy-{i:02d}.md").write_text(
            f"# Policy {i}\n\nThe control {term(i)} is documented for document {i}; it is "
            f"reviewed every year by the security team.\n")


def ddq(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    env.update({"DDQ_EMBEDDER": "fake:hashing-64", "NO_COLOR": "1", "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "ddq.cli", *args, "--home", str(home)],
                          env=env, capture_output=True, text=True, timeout=180)


def kill_ingest(home: Path, folder: Path, point: str, driver: Path) -> None:
    done = subprocess.run([sys.executable, str(driver), str(home), str(folder), point],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == -9, (done.returncode, done.stderr)


def indexed(home: Path) -> tuple[set[int], set[int], BM25KeywordIndex]:
    """The chunk ids of the store and Milvus, and the keyword index as saved on disk (read
    directly, not through a knowledge base, which would repair it on opening)."""
    settings = Settings(home=home, embedder="fake:hashing-64")
    keyword = BM25KeywordIndex(settings.keyword_index_dir / "default")
    keyword.size  # noqa: B018  (loads it now, before anything can change it)
    with KnowledgeBase(settings) as kb:
        store = {c.id for batch in kb.store.iter_chunks("default") for c in batch}
        index = kb.chunk_index
        milvus: set[int] = set()
        if index.exists():
            index.ensure()
            milvus = {int(r["id"]) for r in index._client.query(
                index.name, filter="id >= 0", output_fields=["id"])}
    return store, milvus, keyword


def keyword_ids(keyword: BM25KeywordIndex) -> set[int]:
    return {int(i) for i in keyword._ids}


@pytest.fixture
def driver(tmp_path: Path) -> Path:
    path = tmp_path / "kill_ingest.py"
    path.write_text(DRIVER)
    return path


def milvus_rows(home: Path) -> int:
    """Rows in the chunk collection, duplicates counted (a set of ids would hide them)."""
    settings = Settings(home=home, embedder="fake:hashing-64")
    with KnowledgeBase(settings) as kb:
        index = kb.chunk_index
        if not index.exists():
            return 0
        index.ensure()
        found = index._client.query(index.name, filter="id >= 0", output_fields=["count(*)"])
        return int(found[0]["count(*)"])


@pytest.mark.parametrize("point", ["before_commit", "inside_vectors", "after_commit",
                                   "vectors_lost", "after_vectors"])
def test_the_next_ingest_repairs_what_a_killed_ingest_left(
        tmp_path: Path, driver: Path, point: str) -> None:
    home, folder = tmp_path / "home", tmp_path / "docs"
    write_documents(folder, FIRST)
    first = ddq("ingest", str(folder), home=home)
    assert first.returncode == 0, first.stderr
    write_documents(folder, SECOND)

    kill_ingest(home, folder, point, driver)
    store, milvus, keyword = indexed(home)
    if point in ("before_commit", "inside_vectors"):
        assert len(store) == len(FIRST)  # nothing of the killed run was committed
        if point == "inside_vectors":  # but Milvus has the vectors of the rolled-back run
            assert len(milvus) == len(FIRST) + len(SECOND)
    elif point == "vectors_lost":
        assert len(store) == len(FIRST) + len(SECOND)
        assert len(milvus) == len(keyword_ids(keyword)) == len(FIRST)
    else:
        # The store has every document, the keyword index only the first run's.
        assert len(store) == len(FIRST) + len(SECOND)
        assert len(keyword_ids(keyword)) == len(FIRST)

    again = ddq("ingest", str(folder), home=home)
    print(f"{point}: {again.stdout.strip()}")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    if point in ("before_commit", "inside_vectors"):
        assert f"{len(SECOND)} added" in again.stdout
    else:
        assert f"0 added, 0 updated, {len(FIRST) + len(SECOND)} unchanged" in again.stdout
        assert (f"repaired  bm25:default: was behind the store ({len(FIRST)} of "
                f"{len(FIRST) + len(SECOND)} chunks)") in again.stdout
    if point in ("after_commit", "vectors_lost"):  # committed, never confirmed in Milvus
        assert (f"repaired  vectors:default: was not confirmed complete ({len(FIRST)} of "
                f"{len(FIRST) + len(SECOND)} chunks); the vectors of {len(SECOND)} "
                f"documents written again from the store") in again.stdout

    store, milvus, keyword = indexed(home)
    assert len(store) == len(FIRST) + len(SECOND)
    assert store == milvus == keyword_ids(keyword)
    assert milvus_rows(home) == len(store)  # no id twice in Milvus either
    settings = Settings(home=home, embedder="fake:hashing-64")
    with KnowledgeBase(settings) as kb:
        documents = {d.id: d for d in kb.store.documents("default")}
        chunk_document = {c.id: c.document_id
                          for batch in kb.store.iter_chunks("default") for c in batch}
    for i in [*FIRST, *SECOND]:
        hits = keyword.search([term(i)], 10)[0]
        assert len(hits) == 1, (i, hits)
        found = documents[chunk_document[hits[0].id]]
        assert found.source_path.endswith(f"policy-{i:02d}.md")


def test_status_repairs_the_keyword_index_and_says_so(tmp_path: Path, driver: Path) -> None:
    home, folder = tmp_path / "home", tmp_path / "docs"
    write_documents(folder, FIRST)
    assert ddq("ingest", str(folder), home=home).returncode == 0
    write_documents(folder, SECOND)
    kill_ingest(home, folder, "after_commit", driver)

    status = ddq("status", home=home)
    print(status.stdout)
    assert status.returncode == 0, status.stderr
    assert ("repaired         bm25:default: was behind the store (10 of 20 chunks); rebuilt "
            "from the store") in status.stdout
    assert "index            bm25:default: 20 entries, ok" in status.stdout
    # Repaired for good: the next command has nothing left to repair.
    again = ddq("status", home=home)
    assert "repaired" not in again.stdout
    store, milvus, keyword = indexed(home)
    assert store == milvus == keyword_ids(keyword) and len(store) == 20
