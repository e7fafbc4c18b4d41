"""The answer library as a living asset, through the service: entries with owner, status,
tags and review dates; an approved entry is reused as the answer, a stale one only as
evidence; near-duplicates and conflicts are flagged; edits are guarded by version and
audited; approved review answers flow back with their provenance. Real uvicorn, SQLite,
Milvus Lite and BM25 (FAKE hashing embedder)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Do you support single sign-on with SAML 2.0 for customer accounts?"
ANSWER = "Yes. Customer accounts can sign in through any SAML 2.0 identity provider."


@pytest.fixture
def clients(database_url: str, tmp_path: Path
            ) -> Iterator[tuple[httpx.Client, httpx.Client, KnowledgeBase]]:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        database_url=database_url)
    kb = KnowledgeBase(settings)
    kb.ingest_paths([REPO / "examples" / "knowledge"])
    store = KeyStore(kb.store.engine)
    editor = store.create(workspace="default", name="ed", role=Role.EDITOR)[1]
    approver = store.create(workspace="default", name="ann", role=Role.APPROVER)[1]
    try:
        with serve(create_app(settings, kb=kb)) as url:
            yield (httpx.Client(base_url=url, timeout=60,
                                headers={"Authorization": f"Bearer {editor}"}),
                   httpx.Client(base_url=url, timeout=60,
                                headers={"Authorization": f"Bearer {approver}"}), kb)
    finally:
        kb.close()


def ask(client: httpx.Client, question: str = QUESTION) -> dict:  # type: ignore[type-arg]
    return client.post("/api/ask", json={"question": question}).json()


def managed(client: httpx.Client) -> list[dict]:  # type: ignore[type-arg]
    """The entries typed in or approved in a review (not those the sample library file
    brought in, which every list also shows)."""
    return [e for e in client.get("/api/library").json() if not e["read_only"]]


def test_the_imported_library_is_listed_read_only_with_its_file_and_cell(clients) -> None:  # type: ignore[no-untyped-def]
    editor, _, _ = clients
    imported = [e for e in editor.get("/api/library").json() if e["read_only"]]
    # examples/knowledge/answer_library.xlsx: 20 approved answers on 'Approved answers'.
    assert len(imported) == 20
    first = imported[0]
    assert first["source"] == "import" and first["status"] == "approved"
    assert first["question"] == "Do you have a SOC 2 Type II report?"
    assert first["answer"].startswith("Yes. Harborline Analytics is audited every year")
    assert first["owner"] == "Head of Security"
    assert first["provenance"]["file"].endswith("examples/knowledge/answer_library.xlsx")
    assert (first["provenance"]["sheet"], first["provenance"]["cell"],
            first["provenance"]["question_id"]) == ("Approved answers", "B2", "HL-001")
    key = editor.headers["Authorization"].split(" ", 1)[1]
    browser = httpx.Client(base_url=str(editor.base_url), timeout=60, follow_redirects=True)
    browser.post("/ui/login", data={"key": key})
    page = browser.get("/ui/library").text
    assert "No entries" not in page
    assert "Do you have a SOC 2 Type II report?" in page and "Approved answers!B2" in page
    assert "Read-only: change it in the file" in page


def test_an_entry_is_reused_only_once_approved_and_while_fresh(clients) -> None:  # type: ignore[no-untyped-def]
    editor, approver, kb = clients
    created = editor.post("/api/library", json={
        "question": QUESTION, "answer": ANSWER, "owner": "iam-team@example.com",
        "tags": ["identity"], "review_by": str(date.today() + timedelta(days=90))})
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["status"], entry["owner"], entry["tags"]) == ("draft", "iam-team@example.com",
                                                               ["identity"])
    assert ask(editor)["status"] != "library_match"  # a draft is not an approved answer
    # Only an approver approves.
    refused = editor.patch(f"/api/library/{entry['id']}",
                           json={"version": entry["version"], "status": "approved"})
    assert refused.status_code == 403
    approved = approver.patch(f"/api/library/{entry['id']}",
                              json={"version": entry["version"], "status": "approved"}).json()
    answer = ask(editor)
    assert answer["status"] == "library_match" and answer["answer"] == ANSWER
    assert answer["citations"][0]["source"] == "library://default/managed"
    # A stale edit is refused; nothing changes.
    stale = editor.patch(f"/api/library/{entry['id']}",
                         json={"version": entry["version"], "answer": "No."})
    assert stale.status_code == 409 and stale.json()["error_code"] == "conflict"
    # Past its review-by date: flagged, and no longer reused as it is.
    expired = approver.patch(f"/api/library/{entry['id']}", json={
        "version": approved["version"], "review_by": str(date.today() - timedelta(days=1))})
    assert expired.json()["stale"] is True
    assert ask(editor)["status"] != "library_match"
    # Retired: kept for the record, never used.
    retired = approver.delete(f"/api/library/{entry['id']}").json()
    assert retired["status"] == "retired"
    assert all(c["source"] != "library://default/managed"
               for c in ask(editor)["citations"])
    actions = [(e.action, e.detail.get("before", {}).get("status"))
               for e in kb.store.audit_entries("default") if e.action.startswith("library.")]
    assert actions[0] == ("library.created", None)
    assert ("library.updated", "draft") in actions  # what it was before the approval


def test_near_duplicates_and_conflicts_are_flagged(clients) -> None:  # type: ignore[no-untyped-def]
    _, approver, _ = clients
    for answer in ("Yes. We encrypt backups with AES-256.", "No. Backups are not encrypted.",
                   "Yes, backups are encrypted."):
        approver.post("/api/library", json={"question": "Are backups encrypted?",
                                            "answer": answer, "status": "approved"})
    approver.post("/api/library", json={"question": "Which cloud regions host customer data?",
                                        "answer": "EU-West and US-East.", "status": "approved"})
    entries = {e["id"]: e for e in managed(approver)}
    yes, no, yes_again, regions = sorted(entries)
    assert entries[yes]["conflicts"] == [no] and entries[yes]["duplicates"] == [yes_again]
    assert sorted(entries[no]["conflicts"]) == [yes, yes_again]
    assert entries[regions]["duplicates"] == [] and entries[regions]["conflicts"] == []


def test_approved_review_answers_flow_back_with_provenance(clients) -> None:  # type: ignore[no-untyped-def]
    editor, approver, _ = clients
    sample = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
    created = editor.post("/api/questionnaires",
                          files={"file": (sample.name, sample.read_bytes())}).json()
    qid = created["id"]
    deadline = time.monotonic() + 60
    while editor.get(f"/api/questionnaires/{qid}").json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    questions = editor.get(f"/api/questionnaires/{qid}/questions").json()
    answered = next(q for q in questions if q["draft"]["status"] == "answered")
    from_library = next(q for q in questions if q["draft"]["status"] == "library_match")
    for q in (answered, from_library):
        assert approver.post(f"/api/questionnaires/{qid}/questions/{q['id']}/review",
                             json={"action": "approve", "version": 0}).status_code == 200
    entries = managed(approver)
    assert len(entries) == 1  # the library answer was in the library already
    [entry] = entries
    assert entry["question"] == answered["text"] and entry["answer"] == answered["draft"]["text"]
    assert entry["status"] == "approved" and entry["source"] == "questionnaire"
    provenance = entry["provenance"]
    assert provenance["questionnaire"] == sample.name
    assert provenance["question_id"] == answered["id"]
    assert provenance["approved_by"].endswith(":ann")
    # The next questionnaire that asks it gets the approved answer.
    assert ask(editor, answered["text"])["status"] == "library_match"


def test_the_library_page_adds_and_edits_entries(clients) -> None:  # type: ignore[no-untyped-def]
    _, approver, _ = clients
    key = approver.headers["Authorization"].split(" ", 1)[1]
    browser = httpx.Client(base_url=str(approver.base_url), timeout=60, follow_redirects=True)
    signed_in = browser.post("/ui/login", data={"key": key})
    assert signed_in.status_code == 200 and "Questionnaires" in signed_in.text
    added = browser.post("/ui/library", data={
        "question": QUESTION, "answer": ANSWER, "owner": "iam", "tags": "identity, sso",
        "review_by": "2099-01-01"})
    assert "Added as a draft" in added.text and QUESTION in added.text
    [entry] = managed(approver)
    assert entry["tags"] == ["identity", "sso"] and entry["review_by"] == "2099-01-01"
    form = {"version": entry["version"], "question": QUESTION, "answer": ANSWER,
            "owner": "iam", "tags": "identity", "review_by": "2099-01-01", "status": "approved"}
    saved = browser.post(f"/ui/library/{entry['id']}", data=form)
    assert "Saved." in saved.text
    [entry] = managed(approver)
    assert entry["status"] == "approved" and entry["last_reviewed"] is not None
    again = browser.post(f"/ui/library/{entry['id']}", data={**form, "version": 0})
    assert "Someone else changed this entry" in again.text
    assert ask(approver)["status"] == "library_match"
    bad_date = browser.post("/ui/library", data={"question": "Q?", "answer": "A.",
                                                 "review_by": "next spring"})
    assert "is not a date" in bad_date.text
    assert len(managed(approver)) == 1


def test_another_workspace_never_sees_the_library(clients) -> None:  # type: ignore[no-untyped-def]
    _, approver, kb = clients
    outsider = KeyStore(kb.store.engine).create(workspace="other", name="o", role=Role.ADMIN)[1]
    other = httpx.Client(base_url=str(approver.base_url), timeout=60,
                         headers={"Authorization": f"Bearer {outsider}"})
    entry = approver.post("/api/library", json={"question": QUESTION, "answer": ANSWER,
                                                "status": "approved"}).json()
    assert other.get("/api/library").json() == []
    assert other.get(f"/api/library/{entry['id']}").status_code == 404
    assert other.patch(f"/api/library/{entry['id']}",
                       json={"version": 0, "answer": "No."}).status_code == 404
    assert ask(other)["status"] != "library_match"
    assert ask(approver)["status"] == "library_match"
