"""Health and metrics of the real service under uvicorn: /livez, /readyz (and what makes it
fail), and /metrics with route templates (never raw paths), retrieval stages, drafts,
models, jobs and index sizes."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.metrics import REGISTRY
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_cover_requests_retrieval_drafting_models_jobs_and_index(tmp_path: Path) -> None:
    # The registry is the process's: other tests' requests are in it too, so the counters
    # are compared with what they were before this test did anything.
    before = samples(generate_latest(REGISTRY).decode())
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    kb = KnowledgeBase(settings)
    kb.ingest_paths([REPO / "examples" / "knowledge"])
    key = KeyStore(kb.store.engine).create(workspace="default", name="m", role=Role.EDITOR)[1]
    sample = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
    try:
        with serve(create_app(settings, kb=kb)) as url:
            client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                  timeout=60)
            assert client.post("/api/ask", json={"question": "Is data encrypted?"}).is_success
            qid = client.post("/api/questionnaires",
                              files={"file": (sample.name, sample.read_bytes())}).json()["id"]
            deadline = time.monotonic() + 60
            while client.get(f"/api/questionnaires/{qid}").json()["state"] != "done":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert client.get("/api/questionnaires/999999").status_code == 404
            assert httpx.get(f"{url}/api/me").status_code == 401
            assert client.get("/no/such/path").status_code == 404
            scraped = httpx.get(f"{url}/metrics")  # no key: the scrape port is internal
    finally:
        kb.close()
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    after = samples(scraped.text)
    found = {k: v - before.get(k, 0.0) for k, v in after.items()}
    gauges = after  # read at scrape time from this test's own store and index
    assert value(found, "ddq_http_requests_total", route="/api/ask", method="POST",
                 status="200") == 1
    # Route templates, not raw paths: the id is not a label value.
    assert value(found, "ddq_http_requests_total", route="/api/questionnaires/{questionnaire_id}",
                 method="GET", status="404") == 1
    assert value(found, "ddq_http_requests_total", route="unmatched", method="GET",
                 status="404") == 1
    assert value(found, "ddq_http_requests_total", route="/api/me", method="GET",
                 status="401") == 1
    assert not any("999999" in str(labels) for (_, labels) in found)
    for stage in ("embed", "dense", "keyword", "fusion"):
        assert value(found, "ddq_retrieval_stage_duration_seconds_count", stage=stage) >= 2
    assert value(found, "ddq_retrieval_questions_total") >= 32
    drafted = sum(v for (name, labels), v in found.items() if name == "ddq_drafts_total")
    assert drafted >= 32  # the ask and the 31 questions
    assert value(found, "ddq_draft_duration_seconds_count", drafter="extractive") >= 2
    assert value(found, "ddq_job_questions_total") >= 31
    assert value(gauges, "ddq_jobs", state="done") == 1
    assert value(gauges, "ddq_index_entities", collection="chunks") > 0
    # In sync: the index holds what the store holds (the drift alert compares these).
    assert value(gauges, "ddq_index_entities", collection="chunks") == value(
        gauges, "ddq_store_chunks")
    assert value(found, "ddq_model_calls_total", model="fake:hashing-64", role="embedder") > 0
    for stage in ("parse", "chunk", "embed", "index"):
        assert value(found, "ddq_ingest_stage_duration_seconds_count", stage=stage) >= 1
    assert value(found, "ddq_ingest_documents_total", outcome="added") >= 7
    assert any(name == "ddq_build_info" for (name, _) in after)
    assert value(found, "ddq_vector_search_duration_seconds_count", collection="chunks") >= 2


def test_health_endpoints_say_what_is_failing(tmp_path: Path) -> None:
    healthy = Settings(home=tmp_path / "a", embedder="fake:hashing-64")
    kb = KnowledgeBase(healthy)
    try:
        with serve(create_app(healthy, kb=kb)) as url:
            assert httpx.get(f"{url}/livez").json() == {"status": "ok"}
            ready = httpx.get(f"{url}/readyz")
            assert ready.status_code == 200 and ready.json() == {"status": "ready"}
            checks = httpx.get(f"{url}/readyz", params={"verbose": "true"}).json()["checks"]
            assert checks["database"] == checks["vector_index"] == "ok"
            assert checks["model:embedder"] == checks["model:generator"] == "ok"
    finally:
        kb.close()
    broken = Settings(home=tmp_path / "b", embedder="fake:hashing-64",
                      generator="openai:down", openai_base_url="http://127.0.0.1:9/v1",
                      model_retries=0)
    kb = KnowledgeBase(broken)
    try:
        with serve(create_app(broken, kb=kb)) as url:
            assert httpx.get(f"{url}/livez").status_code == 200  # alive, not ready
            not_ready = httpx.get(f"{url}/readyz")
            assert not_ready.status_code == 503
            body = not_ready.json()
            assert body["status"] == "not ready"
            assert body["checks"]["model:generator"].startswith("failing")
            assert body["checks"]["database"] == "ok"
    finally:
        kb.close()
