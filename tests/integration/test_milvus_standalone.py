"""The same code against a REAL Milvus server: the Milvus 2.3.5 standalone of the PyPI
package ``milvus`` (dev extra), started once for this module on free loopback ports. The
vector-index contract runs on it and on Milvus Lite; ingest, remove, reindex and status run
through a knowledge base on it; Milvus 2.3 has no BM25, so the Milvus keyword index is
refused in one line there and ``auto`` falls back to bm25s; and a Milvus outage mid-run
(the link to the server cut) gives 503 and a ``/readyz`` reason, then recovers when the
server is reachable again, without a restart. ``DDQ_TEST_NO_MILVUS_SERVER=1`` skips this
module (on purpose only)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.errors import DDQError
from ddq.index.keyword import BM25KeywordIndex
from ddq.index.vector import MilvusVectorIndex
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.milvus_servers import (
    CuttableLink,
    MilvusStandalone,
    MilvusStandaloneError,
    milvus_server_binary,
)
from support.service import serve

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusStandalone]:
    if os.environ.get("DDQ_TEST_NO_MILVUS_SERVER") == "1":
        pytest.skip("DDQ_TEST_NO_MILVUS_SERVER=1: the Milvus standalone tests are switched off")
    if milvus_server_binary() is None:
        pytest.fail("milvus-server is not installed, so the Milvus server tests cannot run: "
                    "it comes with the dev extra (`.venv/bin/pip install -e '.[dev]'`, the "
                    "PyPI package milvus==2.3.5), or set DDQ_TEST_NO_MILVUS_SERVER=1 to skip "
                    "them", pytrace=False)
    server = MilvusStandalone(tmp_path_factory.mktemp("milvus-standalone"))
    try:
        server.start()
    except MilvusStandaloneError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["lite", "standalone"])
def milvus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A client of Milvus Lite (a local path) or of the standalone server, and its URI."""
    if request.param == "lite":
        uri = str(tmp_path / "milvus.db")
    else:
        uri = request.getfixturevalue("standalone").uri
    client = MilvusVectorIndex.connect(uri)
    try:
        yield client, uri
    finally:
        if request.param == "standalone":
            for name in client.list_collections():
                client.drop_collection(name)
        MilvusVectorIndex.disconnect(client, uri)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("index_type", ["HNSW", "FLAT"])
def test_vector_index_contract(milvus: tuple[Any, str], index_type: str) -> None:
    client, _ = milvus
    rng = np.random.default_rng(11)
    vectors = _unit(rng.normal(size=(600, 32)))
    index = MilvusVectorIndex(client, f"t_contract_{index_type.lower()}", 32, index_type)
    assert not index.exists() and index.count() == 0
    assert index.search(workspace="a", vectors=vectors[:1], limit=5) == [[]]
    ids = list(range(1, 601))
    index.insert(workspace="a", ids=ids[:500], document_ids=[i // 10 for i in ids[:500]],
                 vectors=vectors[:500])
    index.insert(workspace="b", ids=ids[500:], document_ids=ids[500:], vectors=vectors[500:])
    index.flush()
    assert index.count() == 600
    assert client.describe_index(index.name, "vector")["index_type"] == index_type
    # Each stored vector finds itself first, inside its own workspace only.
    found = index.search(workspace="a", vectors=vectors[:20], limit=5)
    assert [row[0].id for row in found] == ids[:20]
    assert all(h.id <= 500 for row in found for h in row)
    assert found[0][0].score == pytest.approx(1.0, abs=1e-3)
    assert [row[0].id for row in index.search(workspace="b", vectors=vectors[550:553],
                                              limit=3)] == [551, 552, 553]
    # Upserting an id again replaces it; deleting removes it from search and count.
    index.insert(workspace="a", ids=[1], document_ids=[0], vectors=vectors[1:2])
    index.delete(ids[:10])
    index.flush()
    assert index.count() == 590
    assert all(row[0].id not in ids[:10] for row in
               index.search(workspace="a", vectors=vectors[:10], limit=1))
    with pytest.raises(DDQError, match="invalid workspace name"):
        index.search(workspace='a" or workspace != "', vectors=vectors[:1], limit=1)
    index.drop()
    assert not index.exists()


def _docs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "docs"
    folder.mkdir()
    keys = folder / "keys.md"
    keys.write_text("# Keys\n\nCustomer-managed zqxkeys are not supported.\n")
    (folder / "backup.md").write_text("# Backups\n\nBackups are encrypted and kept 35 days.\n")
    return folder, keys


def test_ingest_remove_reindex_and_status_on_a_milvus_server(
        tmp_path: Path, standalone: MilvusStandalone, caplog: pytest.LogCaptureFixture) -> None:
    folder, keys = _docs(tmp_path)
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        milvus_uri=standalone.uri)
    with caplog.at_level(logging.WARNING, "ddq.index"), KnowledgeBase(settings) as kb:
        try:
            assert kb.ingest_paths([folder]).chunks_written == 2
            # Milvus 2.3 has no BM25: `auto` keeps bm25s and says so, naming the version.
            assert type(kb.keyword_index) is BM25KeywordIndex
            assert "v2.3.5" in caplog.text and "no BM25" in caplog.text
            hits = kb.retrieve("customer managed zqxkeys").hits
            assert hits[0].chunk.source_path == str(keys.resolve())
            assert hits[0].dense_rank == 1 and hits[0].keyword_rank == 1
            assert all(index.in_sync for index in kb.status().indexes)
            kb.remove(str(keys))
            assert str(keys.resolve()) not in {h.chunk.source_path for h in
                                               kb.retrieve("customer managed zqxkeys").hits}
            assert kb.chunk_index.count() == 1
            assert kb.reindex()["chunks"] == 1
            assert kb.chunk_index.count() == 1
            assert all(index.in_sync for index in kb.status().indexes)
            assert kb.retrieve("backups encrypted").hits[0].dense_rank == 1
        finally:
            for name in kb._client().list_collections():
                kb._client().drop_collection(name)


def test_the_milvus_keyword_index_on_milvus_2_3_is_one_clear_line(
        tmp_path: Path, standalone: MilvusStandalone) -> None:
    _docs(tmp_path)
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        milvus_uri=standalone.uri, keyword_index="milvus")
    with KnowledgeBase(settings) as kb:
        try:
            with pytest.raises(DDQError, match=r"version v2\.3\.5[^)]*\) has no BM25 full-text "
                                               r"search .*DDQ_KEYWORD_INDEX=bm25s"):
                kb.rebuild_keyword_index()
        finally:
            for name in kb._client().list_collections():
                kb._client().drop_collection(name)


def test_a_milvus_outage_is_503_and_a_readyz_reason_then_recovers(
        tmp_path: Path, standalone: MilvusStandalone) -> None:
    """Milvus becomes unreachable mid-run (the link to the real server is cut: connections
    reset, new ones refused) and comes back: 503 with a one-line reason and a failing
    ``/readyz`` meanwhile, answers again afterwards, without restarting the service."""
    folder, _ = _docs(tmp_path)
    link = CuttableLink(standalone.ports["proxy-port"])
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64", milvus_uri=link.uri)
    kb = KnowledgeBase(settings)
    key = KeyStore(kb.store.engine).create(workspace="default", name="me", role=Role.EDITOR)[1]
    headers = {"X-API-Key": key}
    question = {"question": "customer managed zqxkeys"}
    try:
        kb.ingest_paths([folder])
        with serve(create_app(settings, kb=kb)) as url:
            assert httpx.get(f"{url}/readyz").status_code == 200
            before = httpx.post(f"{url}/api/search", json=question, headers=headers, timeout=60)
            assert before.status_code == 200 and before.json()[0]["source"] == "keys.md"
            link.cut()
            started = time.monotonic()
            ready = httpx.get(f"{url}/readyz", timeout=60)
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["vector_index"].startswith("failing")
            down = httpx.post(f"{url}/api/search", json=question, headers=headers, timeout=60)
            assert down.status_code == 503, down.text
            assert down.json()["error_code"] == "index_error"
            assert "\n" not in down.json()["detail"]
            print(f"outage seen in {time.monotonic() - started:.1f} s")
            link.restore()
            deadline = time.monotonic() + 60
            while httpx.get(f"{url}/readyz", timeout=60).status_code != 200:
                assert time.monotonic() < deadline, "not ready again within 60 s"
                time.sleep(0.5)
            after = httpx.post(f"{url}/api/search", json=question, headers=headers, timeout=60)
            assert after.status_code == 200, after.text
            assert after.json()[0]["source"] == "keys.md"
            print(f"recovered {time.monotonic() - started:.1f} s after the cut")
    finally:
        link.restore()
        for name in kb._client().list_collections():
            kb._client().drop_collection(name)
        kb.close()
        link.close()
