"""The service's logs: one JSON object per line, the request id on every line of a request
(and back in the X-Request-ID header), the job id on every line of a job, and neither the
API key nor question or document text anywhere."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.logs import configure_logging
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Is zebra-striped telemetry encrypted before it leaves the device?"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging(json_format=True, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.getLogger("uvicorn.access").disabled = False


def test_json_lines_with_request_and_job_ids_and_no_secrets(tmp_path: Path,
                                                            captured: io.StringIO) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    kb = KnowledgeBase(settings)
    kb.ingest_paths([REPO / "examples" / "knowledge"])
    key = KeyStore(kb.store.engine).create(workspace="default", name="log", role=Role.EDITOR)[1]
    sample = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
    try:
        with serve(create_app(settings, kb=kb)) as url:
            client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                  timeout=60)
            asked = client.post("/api/ask", json={"question": QUESTION},
                                headers={"X-Request-ID": "trace-42"})
            assert asked.headers["x-request-id"] == "trace-42"
            generated = client.get("/api/me").headers["x-request-id"]
            assert len(generated) == 32
            qid = client.post("/api/questionnaires",
                              files={"file": (sample.name, sample.read_bytes())}).json()["id"]
            deadline = time.monotonic() + 60
            while client.get(f"/api/questionnaires/{qid}").json()["state"] != "done":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            time.sleep(0.3)
    finally:
        kb.close()
    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    ask_line = next(e for e in lines if e.get("route") == "/api/ask")
    assert ask_line["request_id"] == "trace-42" and ask_line["status"] == 200
    assert ask_line["method"] == "POST" and ask_line["duration_ms"] >= 0
    job_lines = [e for e in lines if e.get("job_id") == qid]
    assert {e["message"] for e in job_lines} >= {"job claimed", "job run ended"}
    ended = next(e for e in job_lines if e["message"] == "job run ended")
    assert ended["result"] == "done" and ended["drafted"] == 31
    assert key not in text and QUESTION not in text
    assert "zebra" not in text.lower()
    assert all({"ts", "level", "logger", "message"} <= set(e) for e in lines)
