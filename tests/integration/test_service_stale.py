"""Stale and expiry through the service: GET /api/stale lists approved answers whose cited
passages changed (old and new side by side) and expired evidence; PUT
/api/documents/{id}/validity sets a document's validity (approvers only), which the answers
then follow. Real uvicorn, SQLite / PostgreSQL, Milvus Lite and BM25 (fake embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from ddq.store.review import ReviewAction, ReviewStore
from support.service import serve

pytestmark = pytest.mark.integration

REPORT = """# Acme SOC 2 Type II Report

Period: January 1, 2025 to December 31, 2025

## Controls tested

Customer data is encrypted at rest with AES-256.
"""
POLICY = """# Access Control Policy

## Passwords

Passwords must be at least 12 characters long.
"""


@pytest.fixture
def service(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[httpx.Client, httpx.Client, KnowledgeBase, Path, str]]:
    monkeypatch.setenv("DDQ_TODAY", "2027-02-01")  # the report's validity ended 2026-12-31
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "acme-soc2-report.md").write_text(REPORT, encoding="utf-8")
    (folder / "access.md").write_text(POLICY, encoding="utf-8")
    settings = Settings(
        home=tmp_path / "home", embedder="fake:hashing-64", database_url=database_url
    )
    kb = KnowledgeBase(settings)
    kb.ingest_paths([folder])
    keys = KeyStore(kb.store.engine)
    editor = keys.create(workspace="default", name="ed", role=Role.EDITOR)[1]
    approver = keys.create(workspace="default", name="ann", role=Role.APPROVER)[1]
    try:
        with serve(create_app(settings, kb=kb)) as url:
            yield (
                httpx.Client(
                    base_url=url, timeout=60, headers={"Authorization": f"Bearer {editor}"}
                ),
                httpx.Client(
                    base_url=url, timeout=60, headers={"Authorization": f"Bearer {approver}"}
                ),
                kb,
                folder,
                url,
            )
    finally:
        kb.close()


def test_stale_and_validity_routes(service) -> None:  # type: ignore[no-untyped-def]
    editor, approver, _, _, _ = service
    question = {"question": "Is customer data encrypted at rest?"}
    expired = editor.post("/api/ask", json=question).json()
    assert expired["status"] == "needs_input"
    assert "acme-soc2-report.md" in expired["reason"]

    listed = editor.get("/api/stale").json()
    assert listed["today"] == "2027-02-01" and listed["source_changed"] == []
    [report] = listed["evidence"]
    assert report["source_path"].endswith("acme-soc2-report.md")
    assert (report["state"], report["valid_until"], report["kind"]) == (
        "expired",
        "2026-12-31",
        "soc_report",
    )
    assert editor.get("/api/stale", params={"today": "2026-06-01"}).json()["evidence"] == []
    every = editor.get("/api/stale", params={"today": "2026-06-01", "every": "true"}).json()
    assert [e["state"] for e in every["evidence"]] == ["valid"]
    assert editor.get("/api/stale", params={"today": "soon"}).status_code == 422

    # Setting a validity is an approver's act; the answer then follows it.
    path = f"/api/documents/{report['document_id']}/validity"
    body = {"valid_until": "2027-03-31", "note": "bridge letter"}
    assert editor.put(path, json=body).status_code == 403
    done = approver.put(path, json=body)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "valid"
    assert done.json()["origin"].startswith("set by key:") and done.json()["origin"].endswith(
        ":ann"
    )
    assert editor.post("/api/ask", json=question).json()["status"] == "answered"
    assert approver.put(path, json={"valid_until": None}).json()["state"] == "expired"
    assert approver.put("/api/documents/999999/validity", json=body).status_code == 404
    assert approver.put(path, json={"valid_until": "2027-13-01"}).status_code == 422
    assert approver.put(path, json={"valid_until": "2027-03-31", "extra": 1}).status_code == 422


def test_the_review_and_knowledge_pages_show_changed_sources_and_validity(
    service, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, _, kb, folder, url = service
    form = tmp_path / "form.csv"
    form.write_text(
        "id,question\nP1,Must passwords be at least 12 characters long?\n"
        "P2,Is customer data encrypted at rest?\n",
        encoding="utf-8",
    )
    job = QuestionnaireJob(kb)
    info, _ = job.open(form)
    job.run(info)
    [p1] = [q for q in job.store.questions(info.id) if q.qid == "P1"]
    reviews = ReviewStore(kb.store.engine)
    reviews.review(
        workspace=kb.workspace,
        questionnaire_id=info.id,
        question_id=p1.id,
        action=ReviewAction.APPROVE,
        seen_version=reviews.reviews(info.id)[p1.id].version,
        actor="ann",
    )
    (folder / "access.md").write_text(POLICY.replace("12 characters", "16 characters"))
    kb.ingest_paths([folder])

    keys = KeyStore(kb.store.engine)
    viewer = keys.create(workspace="default", name="vi", role=Role.VIEWER)[1]
    with httpx.Client(base_url=url, timeout=60) as browser:
        assert browser.post("/ui/login", data={"key": viewer}).status_code in (200, 303)
        changed = browser.get(f"/ui/q/{info.id}", params={"status": "source_changed"}).text
        assert "source changed" in changed
        # (the question itself says "12 characters": the badge's passages are what count)
        assert "before: Passwords must be at least 12 characters long." in changed
        assert "after: Passwords must be at least 16 characters long." in changed
        assert "Is customer data encrypted at rest?" not in changed  # only the flagged one
        every = browser.get(f"/ui/q/{info.id}").text
        assert "Is customer data encrypted at rest?" in every
        assert every.count('<span class="badge needs_input">source changed</span>') == 1
        knowledge = browser.get("/ui/knowledge").text
        assert "2026-12-31" in knowledge and ">expired</span>" in knowledge
