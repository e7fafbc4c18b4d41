"""The standing hostile-input suite, service half: every hostile file of
:mod:`support.hostile_files` uploaded to a real ``ddq serve`` subprocess, as knowledge
(``POST /api/documents``, every kind) and as a questionnaire (``POST /api/questionnaires``,
the questionnaire kinds).

Each case asserts: refused with a 4xx in the JSON error format (``error_code``, a one-line
``detail`` naming the file and saying why), never a 500; the process alive afterwards
(``/livez``); its peak resident memory (``VmHWM``) at most :data:`SERVICE_GROWTH_MB` over
what it held idle; the acceptance cases refused within :data:`HEADLINE_S`; and nothing
stored changed (documents, questionnaires, and a search for a stored document's unique term
returning the same hits).

A knowledge file that is merely unreadable (empty, corrupt, truncated, encrypted) is reported
the way an ingest reports it, as a 200 whose one result is ``failed`` with its error code and
the reason, so the other files of an upload still go in; an unsafe or oversized one is the
request's own status (413 too large, 415 not what its name says, 422 unsafe). A questionnaire
upload is one file, so every refusal is its status.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support import hostile_files as hostile
from support.hostile_files import CATALOGUE, Hostile
from support.hostile_runs import ServeProcess, hostile_files

pytestmark = pytest.mark.integration

#: The most the service's peak resident set may grow over its idle size, over all cases.
SERVICE_GROWTH_MB = 300
#: The acceptance cases are answered within this many seconds (the upload included).
HEADLINE_S = 5.0
TERM = "zanzibarlattice"

KNOWLEDGE = [pytest.param(h, id=h.case) for h in CATALOGUE]
QUESTIONNAIRES = [pytest.param(h, id=h.case) for h in CATALOGUE if h.questionnaire]


class Service:
    def __init__(self, serve: ServeProcess) -> None:
        self.serve = serve
        self.client = serve.client
        upload = self.client.post("/api/documents", files=[(
            "files", ("backup_policy.md",
                      f"# Backup policy\n\nBackups are sealed with the {TERM} key.\n".encode(),
                      "text/markdown"))])
        assert upload.status_code == 200 and upload.json()[0]["outcome"] == "added", upload.text
        self.idle_mb = serve.rss_mb()
        self.before = self.stored()

    def stored(self) -> dict[str, Any]:
        documents = self.client.get("/api/documents").json()
        questionnaires = self.client.get("/api/questionnaires").json()
        hits = self.client.post("/api/search", json={"question": TERM}).json()
        return {"documents": documents, "questionnaires": len(questionnaires),
                "hits": [(h["chunk_id"], h["keyword_rank"]) for h in hits]}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    hostile_files(tmp_path_factory)  # built before the service starts its clock
    serve = ServeProcess(tmp_path_factory.mktemp("hostile-service") / "home")
    try:
        yield Service(serve)
    finally:
        serve.close()


def _check(service: Service, item: Hostile, response: httpx.Response, seconds: float) -> None:
    assert response.status_code != 500, response.text
    body = response.json()
    if response.status_code == 200:  # a knowledge file that is unreadable, not unsafe
        [result] = body
        assert result["outcome"] == "failed", body
        assert result["error_code"] in {"empty_file", "unreadable_file", "encrypted_file"}, body
        detail = result["detail"]
    else:
        assert 400 <= response.status_code < 500, response.text
        assert set(body) == {"error_code", "detail"}, body
        detail = body["detail"]
    assert "\n" not in detail and "Traceback" not in detail, detail
    assert re.search(item.says, detail, re.IGNORECASE), detail
    assert str(service.serve.home) not in detail, detail  # no server paths
    assert service.serve.alive(), service.serve.log()[-3000:]
    grown = service.serve.peak_mb() - service.idle_mb
    assert grown < SERVICE_GROWTH_MB, f"peak {grown:.0f} MB over idle"
    if item.headline:
        assert seconds < HEADLINE_S, f"{seconds:.1f} s"
    assert service.stored() == service.before


def _post(service: Service, route: str, field: str, item: Hostile, path: Path
          ) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    with path.open("rb") as handle:
        response = service.client.post(route, files=[(field, (item.filename, handle,
                                                              "application/octet-stream"))])
    return response, time.monotonic() - started


@pytest.mark.parametrize("item", KNOWLEDGE)
def test_knowledge_upload_refuses(item: Hostile, service: Service,
                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    path = hostile_files(tmp_path_factory)[item.case]
    response, seconds = _post(service, "/api/documents", "files", item, path)
    _check(service, item, response, seconds)
    if response.status_code != 200:
        assert response.json()["detail"].startswith(item.filename), response.text


@pytest.mark.parametrize("item", QUESTIONNAIRES)
def test_questionnaire_upload_refuses(item: Hostile, service: Service,
                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    path = hostile_files(tmp_path_factory)[item.case]
    response, seconds = _post(service, "/api/questionnaires?start=false", "file", item, path)
    _check(service, item, response, seconds)
    assert item.filename in response.json()["detail"], response.text


def test_one_refused_file_refuses_the_whole_upload(service: Service,
                                                   tmp_path_factory: pytest.TempPathFactory
                                                   ) -> None:
    bomb = hostile_files(tmp_path_factory)["docx-zip-bomb-1gb"]
    response = service.client.post("/api/documents", files=[
        ("files", ("fine.md", b"# Fine\n\nA good file.\n", "text/markdown")),
        ("files", ("bomb.docx", bomb.read_bytes(), "application/octet-stream"))])
    assert response.status_code == 422 and response.json()["error_code"] == "unsafe_file"
    assert service.stored() == service.before


def _slow_workbook(path: Path, cells: int = 50_000) -> Path:
    """A legal workbook that takes openpyxl seconds to read (many styled empty cells) and
    holds no question column: refused after its parse, storing nothing."""
    columns = "ABCDEFGHIJ"
    rows = cells // len(columns)
    body = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}" s="0"/>' for c in columns)
                   + "</row>" for r in range(1, rows + 1))
    return hostile._xlsx(path, hostile._sheet(body))


def test_a_slow_parse_holds_up_no_other_upload(service: Service, tmp_path: Path) -> None:
    """Parsing runs before the write lock: a small upload is stored while a slow one is
    still being read. (Defined last: it stores a document.)"""
    slow = _slow_workbook(tmp_path / "slow.xlsx")
    done: dict[str, float] = {}

    def upload_slow() -> None:
        with httpx.Client(base_url=service.serve.url, timeout=300,
                          headers={"Authorization": f"Bearer {service.serve.key}"}) as client:
            response = client.post("/api/documents", files=[
                ("files", ("slow.xlsx", slow.read_bytes(), "application/octet-stream"))])
        done["slow"] = time.monotonic()
        done["slow_status"] = response.status_code

    worker = threading.Thread(target=upload_slow)
    worker.start()
    time.sleep(1.0)  # the slow file is being parsed
    small = service.client.post("/api/documents", files=[
        ("files", ("small.md", b"# Small\n\nKeys are rotated yearly.\n", "text/markdown"))])
    done["small"] = time.monotonic()
    assert small.status_code == 200 and small.json()[0]["outcome"] == "added", small.text
    worker.join(timeout=300)
    assert done["small"] < done["slow"], "the small upload waited for the slow parse"
    assert done["slow_status"] == 422


def test_an_unreadable_file_fails_alone_and_the_rest_of_the_upload_goes_in(
        service: Service, tmp_path_factory: pytest.TempPathFactory) -> None:
    """One corrupt file among good ones is that file's failure; the rest is ingested (as
    ``ddq ingest`` of a folder does). Defined after the cases above: it stores a document."""
    corrupt = hostile_files(tmp_path_factory)["docx-corrupt-member"]
    response = service.client.post("/api/documents", files=[
        ("files", ("batch-good.md", b"# Batch\n\nThe zephyrine term is here.\n", "text/markdown")),
        ("files", ("corrupt.docx", corrupt.read_bytes(), "application/octet-stream"))])
    assert response.status_code == 200, response.text
    good, bad = response.json()
    assert good["name"] == "batch-good.md" and good["outcome"] == "added", good
    assert bad["outcome"] == "failed" and bad["error_code"] == "unreadable_file", bad
    assert "corrupt.docx" in bad["detail"] and "invalid distance" in bad["detail"], bad
    hits = service.client.post("/api/search", json={"question": "zephyrine"}).json()
    assert [hit["source"] for hit in hits][:1] == ["batch-good.md"], hits
