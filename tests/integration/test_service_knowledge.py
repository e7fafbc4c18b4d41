"""The service's knowledge routes under uvicorn, with real SQLite, Milvus Lite and BM25:
keys and roles, workspaces that never see each other, uploads with limits, and the audit
trail. A refused request changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
OTHER = b"# Encryption policy\n\nBeta Corp encrypts customer data with ChaCha20.\n"


@dataclass
class Service:
    url: str
    kb: KnowledgeBase
    keys: dict[str, str]

    def client(self, who: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def uploads(self, workspace: str) -> list[str]:
        folder = self.kb.settings.home / "uploads" / workspace
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64", max_upload_mb=0.01,
                        database_url=database_url)
    kb = KnowledgeBase(settings)
    store = KeyStore(kb.store.engine)
    keys = {}
    for name, workspace, role in [("acme-viewer", "acme", Role.VIEWER),
                                  ("acme-editor", "acme", Role.EDITOR),
                                  ("acme-admin", "acme", Role.ADMIN),
                                  ("beta-admin", "beta", Role.ADMIN)]:
        keys[name] = store.create(workspace=workspace, name=name, role=role)[1]
    try:
        with serve(create_app(settings, kb=kb)) as url:
            yield Service(url, kb, keys)
    finally:
        kb.close()


def upload(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post("/api/documents", files=[("files", (name, data, "text/markdown"))])


def test_keys_are_checked_on_every_route(service: Service) -> None:
    anonymous = service.client(None)
    for method, path in [("GET", "/api/me"), ("GET", "/api/documents"),
                         ("POST", "/api/ask"), ("GET", "/api/audit")]:
        response = anonymous.request(method, path, json={"question": "x"})
        assert response.status_code == 401, path
        assert response.json()["error_code"] == "unauthorized"
    bad = httpx.get(f"{service.url}/api/me", headers={"X-API-Key": "ddq_forged"})
    assert bad.status_code == 401
    me = service.client("acme-editor").get("/api/me").json()
    assert me == {"workspace": "acme", "role": "editor", "key_id": 2, "key_name": "acme-editor"}
    # A revoked key is refused from then on.
    KeyStore(service.kb.store.engine).revoke(2)
    assert service.client("acme-editor").get("/api/me").status_code == 401


def test_roles_are_enforced_and_a_refusal_changes_nothing(service: Service) -> None:
    viewer = service.client("acme-viewer")
    refused = upload(viewer, "policy.md", POLICY)
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "forbidden"
    assert service.kb.store.documents("acme") == [] and service.uploads("acme") == []
    assert viewer.get("/api/audit").status_code == 403


def test_workspaces_see_only_their_own_knowledge(service: Service) -> None:
    acme, beta = service.client("acme-editor"), service.client("beta-admin")
    assert [r["outcome"] for r in upload(acme, "policy.md", POLICY).json()] == ["added"]
    assert [r["outcome"] for r in upload(beta, "policy.md", OTHER).json()] == ["added"]
    [acme_doc] = acme.get("/api/documents").json()
    [beta_doc] = beta.get("/api/documents").json()
    assert acme_doc["id"] != beta_doc["id"]
    found = acme.post("/api/search", json={"question": "How is customer data encrypted?"})
    assert found.status_code == 200
    # Each hit and citation is a chunk of the caller's own workspace (named as uploaded,
    # never by its path on the server).
    def chunk_ids(workspace: str) -> set[int]:
        return {c.id for batch in service.kb.store.iter_chunks(workspace) for c in batch}

    assert found.json() and all(h["chunk_id"] in chunk_ids("acme") and
                                h["source"] == "policy.md" for h in found.json())
    answer = beta.post("/api/ask", json={"question": "How is customer data encrypted?"}).json()
    assert all(c["chunk_id"] in chunk_ids("beta") and c["source"] == "policy.md"
               for c in answer["citations"])
    assert "ChaCha20" in answer["answer"] or answer["status"] == "needs_input"
    # Directly in Milvus and in the database: each workspace's vectors and rows are its own.
    acme_kb, beta_kb = service.kb.scoped("acme"), service.kb.scoped("beta")
    index = acme_kb.chunk_index
    index.ensure()

    def in_milvus(workspace: str) -> set[int]:
        rows = index._client.query(index.name, filter=f'workspace == "{workspace}"',
                                   output_fields=["id", "document_id"])
        return {int(r["id"]) for r in rows}

    def in_store(kb: KnowledgeBase) -> set[int]:
        return {c.id for batch in kb.store.iter_chunks(kb.workspace) for c in batch}

    assert in_milvus("acme") == in_store(acme_kb) and in_milvus("beta") == in_store(beta_kb)
    assert in_store(acme_kb).isdisjoint(in_store(beta_kb))
    assert {h["chunk_id"] for h in found.json()} <= in_store(acme_kb)
    assert {c["chunk_id"] for c in answer["citations"]} <= in_store(beta_kb)
    assert all(d.workspace == "acme" for d in acme_kb.store.documents("acme"))
    # Another workspace's document is "not found", not "forbidden": no existence leak.
    stolen = beta.delete(f"/api/documents/{acme_doc['id']}")
    assert stolen.status_code == 404
    assert len(acme.get("/api/documents").json()) == 1
    # Removing needs the admin role; the admin of acme can.
    assert acme.delete(f"/api/documents/{acme_doc['id']}").status_code == 403
    admin = service.client("acme-admin")
    assert admin.delete(f"/api/documents/{acme_doc['id']}").json() == {"removed_chunks": 1}
    assert acme.get("/api/documents").json() == []
    assert len(beta.get("/api/documents").json()) == 1


def test_bad_uploads_are_refused_and_store_nothing(service: Service) -> None:
    editor = service.client("acme-editor")
    too_big = upload(editor, "big.md", b"# Big\n\n" + b"word " * 4000)
    assert too_big.status_code == 413
    assert too_big.json()["error_code"] == "file_too_large"
    wrong_type = upload(editor, "tool.exe", b"MZ...")
    assert wrong_type.status_code == 415
    no_file = editor.post("/api/documents")
    assert no_file.status_code == 422 and "files" in no_file.json()["detail"]
    assert service.kb.store.documents("acme") == []
    assert service.uploads("acme") == []


def test_a_failed_update_keeps_the_previous_version(service: Service) -> None:
    editor = service.client("acme-editor")
    assert upload(editor, "policy.md", POLICY).json()[0]["outcome"] == "added"
    broken = upload(editor, "policy.md", b"   \n")  # no text to index
    assert broken.status_code == 200
    [result] = broken.json()
    assert result["outcome"] == "failed" and result["detail"]
    [doc] = editor.get("/api/documents").json()
    assert doc["chunks"] == 1
    stored = service.kb.settings.home / "uploads" / "acme" / "policy.md"
    assert stored.read_bytes() == POLICY
    assert service.uploads("acme") == ["policy.md"]


def test_the_audit_trail_names_the_key_that_acted(service: Service) -> None:
    upload(service.client("acme-editor"), "policy.md", POLICY)
    admin = service.client("acme-admin")
    entries = admin.get("/api/audit").json()
    added = [e for e in entries if e["action"] == "document.added"]
    assert added and added[0]["actor"] == "key:2:acme-editor"
    assert any(e["action"] == "key.created" for e in entries)
    csv_text = admin.get("/api/audit", params={"format": "csv"}).text
    assert csv_text.splitlines()[0] == "id,at,actor,action,subject,detail"
    assert "document.added" in csv_text
    # beta's trail holds nothing of acme's.
    beta = service.client("beta-admin").get("/api/audit").json()
    assert all(e["action"] != "document.added" for e in beta)


def test_each_key_is_rate_limited_on_its_own(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        rate_limit_per_minute=6)  # bursts of 10, then one more each 10 s
    kb = KnowledgeBase(settings)
    store = KeyStore(kb.store.engine)
    busy = store.create(workspace="acme", name="busy", role=Role.VIEWER)[1]
    calm = store.create(workspace="acme", name="calm", role=Role.VIEWER)[1]
    try:
        with serve(create_app(settings, kb=kb)) as url:
            headers = {"Authorization": f"Bearer {busy}"}
            codes = [httpx.get(f"{url}/api/me", headers=headers).status_code for _ in range(12)]
            assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
            limited = httpx.get(f"{url}/api/me", headers=headers)
            assert limited.json()["error_code"] == "rate_limited"
            assert limited.headers["retry-after"] == "1"
            other = httpx.get(f"{url}/api/me", headers={"Authorization": f"Bearer {calm}"})
            assert other.status_code == 200
    finally:
        kb.close()
