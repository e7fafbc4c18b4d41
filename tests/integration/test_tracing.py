"""OpenTelemetry tracing: off by default; when on, one trace per request, continuing the
caller's ``traceparent``, through retrieval (the keyword search in its thread included),
the model calls and drafting, exported over real OTLP/HTTP — with no question text in it.

The collector here is a small OTLP/HTTP receiver on a loopback socket that decodes what the
real exporter sends with OpenTelemetry's own protobuf definitions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ddq import tracing
from ddq.api.app import create_app
from ddq.config import Settings
from ddq.errors import DDQError
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Is zebra-striped telemetry encrypted before it leaves the device?"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


class Collector:
    """Receives OTLP/HTTP protobuf exports and keeps every span, flattened."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.paths.append(self.path)
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    resource = {a.key: a.value.string_value
                                for a in resource_spans.resource.attributes}
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            collector.spans.append({
                                "name": span.name, "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "attributes": {a.key: _value(a.value) for a in span.attributes},
                                "status": span.status.code, "resource": resource})
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@pytest.fixture
def collector() -> Iterator[Collector]:
    receiver = Collector()
    try:
        yield receiver
    finally:
        tracing.shutdown()
        receiver.close()


def test_off_unless_configured() -> None:
    assert Settings().tracing == "off"
    assert tracing.configure("off") is False and not tracing.enabled()
    with tracing.span("anything", {"a": 1}) as current:
        assert current is None
    with pytest.raises(DDQError, match="unknown tracing mode 'jaeger'"):
        tracing.configure("jaeger")


def test_a_request_is_one_trace_through_retrieval_models_and_drafting(
        tmp_path: Path, collector: Collector) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64", tracing="otlp",
                        otlp_endpoint=collector.url)
    kb = KnowledgeBase(settings)
    kb.ingest_paths([REPO / "examples" / "knowledge"])
    key = KeyStore(kb.store.engine).create(workspace="default", name="t", role=Role.EDITOR)[1]
    assert tracing.configure_from(settings) is True
    try:
        with serve(create_app(settings, kb=kb)) as url:
            asked = httpx.post(f"{url}/api/ask", json={"question": QUESTION},
                               headers={"Authorization": f"Bearer {key}",
                                        "traceparent": PARENT, "X-Request-ID": "req-7"},
                               timeout=60)
            assert asked.status_code == 200
        tracing.shutdown()  # flushes the batch processor to the collector
    finally:
        kb.close()

    assert collector.paths and set(collector.paths) == {"/v1/traces"}
    traced = [s for s in collector.spans if s["trace_id"] == TRACE_ID]
    names = {s["name"] for s in traced}
    assert {"POST /api/ask", "retrieve", "retrieval.embed", "retrieval.dense",
            "retrieval.keyword", "retrieval.fusion", "draft", "model.call"} <= names, names
    server = next(s for s in traced if s["name"] == "POST /api/ask")
    assert server["parent"] == "00f067aa0ba902b7"  # continues the caller's span
    assert server["attributes"]["http.route"] == "/api/ask"
    assert server["attributes"]["http.response.status_code"] == 200
    assert server["attributes"]["ddq.request_id"] == "req-7"
    assert server["resource"]["service.name"] == "ddq"

    by_id = {s["span_id"]: s for s in traced}

    def ancestors(span: dict[str, Any]) -> list[str]:
        chain = []
        while span["parent"] in by_id:
            span = by_id[span["parent"]]
            chain.append(span["name"])
        return chain

    keyword = next(s for s in traced if s["name"] == "retrieval.keyword")
    assert ancestors(keyword)[:2] == ["retrieve", "POST /api/ask"]  # across the thread pool
    call = next(s for s in traced if s["name"] == "model.call")
    assert call["attributes"]["ddq.model"] == "fake:hashing-64"
    assert call["attributes"]["ddq.role"] == "embedder"
    draft = next(s for s in traced if s["name"] == "draft")
    assert draft["attributes"]["ddq.drafter"] == "extractive"
    assert draft["attributes"]["ddq.questions"] == 1

    recorded = repr([(s["name"], s["attributes"]) for s in collector.spans])
    for text in ("zebra", "encrypted before it leaves", key):
        assert text not in recorded


def test_an_ingestion_and_its_stages_are_traced(tmp_path: Path, collector: Collector) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    tracing.configure("otlp", endpoint=collector.url + "/v1/traces")
    kb = KnowledgeBase(settings)
    try:
        kb.ingest_paths([REPO / "examples" / "knowledge"])
    finally:
        kb.close()
    tracing.shutdown()
    deadline = time.monotonic() + 5
    while not collector.spans and time.monotonic() < deadline:
        time.sleep(0.05)
    names = [s["name"] for s in collector.spans]
    assert "ingest" in names
    assert {"ingest.parse", "ingest.chunk", "ingest.embed"} <= set(names), names
    root = next(s for s in collector.spans if s["name"] == "ingest")
    assert root["attributes"]["ddq.files"] >= 3
    assert all(s["trace_id"] == root["trace_id"] for s in collector.spans
               if s["name"].startswith("ingest."))
