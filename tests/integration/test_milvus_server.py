"""The same code against a Milvus *server* by URI: a real `milvus-lite server` process,
spoken to over gRPC on loopback, exactly as a Milvus standalone would be."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.errors import DDQError
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    server = Path(sys.executable).with_name("milvus-lite")
    process = subprocess.Popen(
        [str(server), "server", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(tmp_path / "milvus-server")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited: {process.stderr.read()!r}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("milvus-lite server did not start listening in 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_milvus_server_uri_needs_no_code_change(
    tmp_path: Path, samples, milvus_server: str
) -> None:
    keys = samples.text("keys.md", "# Keys\n\nCustomer-managed keys are not supported.\n")
    samples.text("backup.md", "# Backups\n\nBackups are encrypted and kept 35 days.\n")
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        milvus_uri=milvus_server)
    with KnowledgeBase(settings) as kb:
        report = kb.ingest_paths([samples.folder])
        assert report.chunks_written == 2
        assert not (tmp_path / "home" / "milvus.db").exists()  # nothing local: the server has it
        hits = kb.retrieve("customer managed keys").hits
        assert hits[0].chunk.source_path == str(keys.resolve())
        assert hits[0].dense_rank == 1
        assert all(index.in_sync for index in kb.status().indexes)
        kb.remove(str(keys))
        assert str(keys.resolve()) not in {h.chunk.source_path for h in
                                           kb.retrieve("customer managed keys").hits}
        assert kb.chunk_index.count() == 1


def test_an_unreachable_milvus_server_is_a_clear_error(tmp_path: Path) -> None:
    # A port bound here but never listening: nothing else can take it during the test, and
    # connecting to it is refused.
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                            milvus_uri=f"http://127.0.0.1:{port}")
        with KnowledgeBase(settings) as kb, pytest.raises(DDQError,
                                                          match="cannot open Milvus at"):
            kb.retrieve("anything")
