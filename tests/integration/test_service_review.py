"""A questionnaire through the service, as reviewers use it: upload, the job drafts in the
background, approve / edit / reject / reassign with optimistic concurrency, bulk-approve,
download the answered workbook. Real uvicorn, SQLite, Milvus Lite and BM25; the FAKE hashing
embedder for speed. Also: stopping the service mid-job and starting it again resumes the job
with no question answered twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import httpx
import openpyxl
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from ddq.store.questionnaires import QuestionnaireStore
from support.service import serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
KNOWLEDGE = REPO / "examples" / "knowledge"


@dataclass
class Service:
    url: str
    kb: KnowledgeBase
    keys: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60,
                            headers={"Authorization": f"Bearer {self.keys[who]}"})


def make_kb(home: Path, **overrides: object) -> tuple[KnowledgeBase, dict[str, str]]:
    settings = Settings(home=home, embedder="fake:hashing-64", **overrides)  # type: ignore[arg-type]
    kb = KnowledgeBase(settings)
    keys: dict[str, str] = {}
    store = KeyStore(kb.store.engine)
    if not store.list():
        kb.ingest_paths([KNOWLEDGE])
        for name, workspace, role in [("viewer", "default", Role.VIEWER),
                                      ("editor", "default", Role.EDITOR),
                                      ("approver", "default", Role.APPROVER),
                                      ("outsider", "other", Role.ADMIN)]:
            keys[name] = store.create(workspace=workspace, name=name, role=role)[1]
    return kb, keys


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    kb, keys = make_kb(tmp_path / "home", database_url=database_url)
    try:
        with serve(create_app(kb.settings, kb=kb)) as url:
            yield Service(url, kb, keys)
    finally:
        kb.close()


def upload(client: httpx.Client, *, start: bool = True) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/questionnaires", params={"start": start},
                           files={"file": (SAMPLE.name, SAMPLE.read_bytes())})
    assert response.status_code == 201, response.text
    return response.json()


def wait_for(client: httpx.Client, qid: int, state: str, timeout_s: float = 90) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    while True:
        info = client.get(f"/api/questionnaires/{qid}").json()
        if info["state"] == state:
            return info
        assert info["state"] != "failed", info
        assert time.monotonic() < deadline, f"still {info['state']}: {info['progress']}"
        time.sleep(0.2)


@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")
def test_upload_draft_review_and_download(service: Service) -> None:
    editor, approver = service.client("editor"), service.client("approver")
    created = upload(editor)
    assert created["questions"] == 31 and created["state"] in ("queued", "running")
    qid = created["id"]
    done = wait_for(editor, qid, "done")
    assert done["progress"]["drafted"] == 31
    questions = editor.get(f"/api/questionnaires/{qid}/questions").json()
    answered = [q for q in questions if q["draft"] and q["draft"]["status"] != "needs_input"]
    assert len(answered) >= 3
    first, second, third = answered[:3]
    assert first["draft"]["citations"], "a drafted answer carries its citations"

    def review(client: httpx.Client, q: dict, **body: object) -> httpx.Response:  # type: ignore[type-arg]
        return client.post(f"/api/questionnaires/{qid}/questions/{q['id']}/review", json=body)

    # Approving needs the approver role; an editor may edit but not approve.
    assert review(editor, first, action="approve", version=0).status_code == 403
    ok = review(approver, first, action="approve", version=0)
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    # A second approval based on the version it read before is told someone acted first.
    stale = review(approver, first, action="reject", version=0)
    assert stale.status_code == 409 and stale.json()["error_code"] == "conflict"
    edited_text = "Yes. Reviewed by the security team: all data is encrypted with AES-256."
    edit = review(editor, second, action="edit", version=0, text=edited_text)
    assert edit.status_code == 200 and edit.json()["status"] == "edited"
    assert review(approver, third, action="reject", version=0).json()["status"] == "rejected"
    moved = review(editor, third, action="reassign", version=1, assignee="dana@example.com")
    assert moved.json()["assignee"] == "dana@example.com"
    assert review(editor, third, action="edit", version=2, text="  ").status_code == 422
    unanswered = next(q for q in questions if q["draft"]["status"] == "needs_input")
    refused = review(approver, unanswered, action="approve", version=0)
    assert refused.status_code == 422 and "no answer to approve" in refused.json()["detail"]

    after = {q["id"]: q for q in editor.get(f"/api/questionnaires/{qid}/questions").json()}
    assert after[first["id"]]["review"]["status"] == "approved"
    assert after[second["id"]]["draft"]["text"] == edited_text
    assert after[second["id"]]["draft"]["version"] == 2  # the job's draft is kept as v1
    assert after[second["id"]]["draft"]["citations"] == second["draft"]["citations"]
    rejected = editor.get(f"/api/questionnaires/{qid}/questions",
                          params={"status": "rejected"}).json()
    assert [q["id"] for q in rejected] == [third["id"]]

    bulk = approver.post(f"/api/questionnaires/{qid}/bulk-approve",
                         json={"min_confidence": 0.0}).json()
    pending_answered = [q for q in after.values() if q["review"]["status"] == "pending"
                        and q["draft"] and q["draft"]["status"] != "needs_input"]
    assert bulk["approved"] == len(pending_answered)

    download = editor.get(f"/api/questionnaires/{qid}/export")
    assert download.status_code == 200
    assert "harborline_vendor_security-answered.xlsx" in download.headers["content-disposition"]
    workbook = openpyxl.load_workbook(BytesIO(download.content))
    sheet_name, cell = second["location"].rsplit("!", 1)
    row = int("".join(ch for ch in cell if ch.isdigit()))
    values = [c.value for c in workbook[sheet_name.strip("'")][row]]
    assert any(isinstance(v, str) and "Reviewed by the security team" in v for v in values)

    report = editor.get(f"/api/questionnaires/{qid}/report")
    assert report.status_code == 200 and "text/html" in report.headers["content-type"]
    assert "Reviewed by the security team" in report.text
    report_csv = editor.get(f"/api/questionnaires/{qid}/report", params={"format": "csv"})
    assert report_csv.status_code == 200 and "Reviewed by the security team" in report_csv.text

    audit = service.client("editor").get("/api/audit")
    assert audit.status_code == 403  # the trail is for admins; checked in the store below
    actions = [e.action for e in service.kb.store.audit_entries("default")]
    for expected in ("questionnaire.uploaded", "draft.approve", "draft.edit", "draft.reject",
                     "draft.reassign", "draft.bulk_approve", "questionnaire.exported"):
        assert expected in actions


def test_another_workspace_cannot_see_or_touch_it(service: Service) -> None:
    created = upload(service.client("editor"), start=False)
    outsider = service.client("outsider")
    qid = created["id"]
    assert outsider.get(f"/api/questionnaires/{qid}").status_code == 404
    assert outsider.get("/api/questionnaires").json() == []
    assert outsider.post(f"/api/questionnaires/{qid}/start").status_code == 404
    assert outsider.get(f"/api/questionnaires/{qid}/export").status_code == 404
    questions = service.client("viewer").get(f"/api/questionnaires/{qid}/questions").json()
    hit = outsider.post(f"/api/questionnaires/{qid}/questions/{questions[0]['id']}/review",
                        json={"action": "reassign", "version": 0, "assignee": "x"})
    assert hit.status_code == 404
    assert service.client("viewer").get(f"/api/questionnaires/{qid}").json()["state"] == "idle"


def test_bad_questionnaire_uploads_are_refused(service: Service, tmp_path: Path) -> None:
    editor = service.client("editor")
    wrong = editor.post("/api/questionnaires", files={"file": ("notes.txt", b"hello")})
    assert wrong.status_code == 415
    broken = editor.post("/api/questionnaires",
                         files={"file": ("form.xlsx", b"PK\x03\x04 not really a zip")})
    assert broken.status_code in (415, 422) and "error_code" in broken.json()
    assert editor.get("/api/questionnaires").json() == []
    assert service.client("viewer").post(
        "/api/questionnaires", files={"file": (SAMPLE.name, SAMPLE.read_bytes())}
    ).status_code == 403


def test_stopping_the_service_mid_job_resumes_it_with_nothing_answered_twice(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    # A slow (FAKE) drafting model and one question per batch, so the job is still running
    # when the service stops.
    slow = {"generator": "fake:slow", "answer_batch_size": 1, "library_match_threshold": 1.0}
    kb, keys = make_kb(home, **slow)
    try:
        with serve(create_app(kb.settings, kb=kb)) as url:
            client = httpx.Client(base_url=url, timeout=60,
                                  headers={"Authorization": f"Bearer {keys['editor']}"})
            qid = upload(client)["id"]
            deadline = time.monotonic() + 60
            while client.get(f"/api/questionnaires/{qid}").json()["progress"]["drafted"] < 3:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        # The service stopped: the job went back to the queue, part-drafted.
        store = QuestionnaireStore(kb.store.engine)
        partial = store.progress(qid).done
        assert 3 <= partial < 31
    finally:
        kb.close()
    kb2, _ = make_kb(home, **slow)
    try:
        with serve(create_app(kb2.settings, kb=kb2)) as url:
            client = httpx.Client(base_url=url, timeout=60,
                                  headers={"Authorization": f"Bearer {keys['editor']}"})
            done = wait_for(client, qid, "done", timeout_s=120)
        assert done["progress"]["drafted"] == 31
        counts = QuestionnaireStore(kb2.store.engine).draft_counts(qid)
        assert sorted(set(counts.values())) == [1]  # every question answered exactly once
    finally:
        kb2.close()
