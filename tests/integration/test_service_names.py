"""What the service's responses call files: the name the caller uploaded, never a path on
the server; error details name no folder under the data directory. Real uvicorn, SQLite,
Milvus Lite and BM25 (FAKE embedder)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

POLICY = b"# Encryption policy\n\nCustomer data is encrypted at rest with AES-256.\n"


def test_sources_and_error_details_name_no_server_paths(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    kb = KnowledgeBase(settings)
    key = KeyStore(kb.store.engine).create(workspace="acme", name="ed", role=Role.EDITOR)[1]
    home = str(settings.home.resolve())
    try:
        with serve(create_app(settings, kb=kb)) as url, httpx.Client(
                base_url=url, timeout=60, headers={"X-API-Key": key}) as client:
            uploaded = client.post("/api/documents",
                                   files=[("files", ("policy.md", POLICY, "text/markdown"))])
            assert uploaded.status_code == 200
            hits = client.post("/api/search", json={"question": "encrypted at rest"}).json()
            assert hits and {h["source"] for h in hits} == {"policy.md"}
            answer = client.post("/api/ask", json={"question": "Is customer data encrypted "
                                                               "at rest?"}).json()
            assert answer["citations"]
            assert {c["source"] for c in answer["citations"]} == {"policy.md"}
            # A questionnaire that is not one: refused, and the detail names the file only.
            refused = client.post("/api/questionnaires", files=[
                ("file", ("vendor.xlsx", b"not a workbook at all", "application/octet-stream"))])
            assert refused.status_code in (415, 422), refused.text
            assert "vendor.xlsx" in refused.json()["detail"]
            bad = client.post("/api/documents", files=[
                ("files", ("broken.pdf", b"%PDF-1.4 not really", "application/pdf"))]).json()
            assert bad[0]["outcome"] == "failed"
            for text in (uploaded.text, str(hits), str(answer), refused.text, str(bad)):
                assert home not in text and str(tmp_path) not in text
    finally:
        kb.close()
