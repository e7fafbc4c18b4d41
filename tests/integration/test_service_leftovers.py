"""What a service killed mid-request leaves in its data directory is cleaned when the next
one starts: uploads being received, copies kept while a replacement was ingested (removed
when the store has the replacement, put back when it has the previous file) and exports
being written; fresh files (another process's request in flight) and real files stay.
The real app's start under uvicorn, real SQLite, Milvus Lite and BM25, the FAKE embedder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from support.service import serve

pytestmark = pytest.mark.integration

OLD = time.time() - 2 * 3600


def _left(path: Path, data: bytes = b"partial") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))
    return path


def test_the_next_start_cleans_what_a_killed_service_left(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    uploads = settings.home / "uploads" / "default"
    uploads.mkdir(parents=True)
    first = b"# Encryption\n\nData is encrypted at rest with AES-256.\n"
    second = b"# Encryption\n\nData is encrypted at rest with AES-256 and TLS 1.3.\n"
    committed, interrupted = uploads / "committed.md", uploads / "interrupted.md"
    committed.write_bytes(second)
    interrupted.write_bytes(first)
    kb = KnowledgeBase(settings)
    try:
        kb.ingest_paths([committed, interrupted])
        # committed.md: replaced and ingested, killed before its copy was removed.
        copy_of_committed = _left(uploads / ".previous-committed.md", first)
        # interrupted.md: replaced on disk, killed before the ingest committed.
        interrupted.write_bytes(second)
        copy_of_interrupted = _left(uploads / ".previous-interrupted.md", first)
        receiving = _left(uploads / ".upload-k2j3h4")
        exporting = _left(settings.home / "questionnaires" / "default" / "ab12" /
                          ".form.xlsx.x8y7z6.part")
        in_flight = uploads / ".upload-fresh1"
        in_flight.write_bytes(b"another process is receiving this")
        with serve(create_app(settings, kb=kb)) as url:
            assert httpx.get(f"{url}/livez").status_code == 200
        assert not receiving.exists() and not exporting.exists()
        assert not copy_of_committed.exists() and committed.read_bytes() == second
        assert not copy_of_interrupted.exists()
        assert interrupted.read_bytes() == first  # the file the store has
        assert in_flight.exists()
        assert sorted(p.name for p in uploads.iterdir()) == [
            ".upload-fresh1", "committed.md", "interrupted.md"]
    finally:
        kb.close()
