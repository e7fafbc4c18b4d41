"""Health and metrics: ``/livez`` (the process answers), ``/readyz`` (the database, the
vector index and the configured models can be reached; ``?verbose`` says which), and
``/metrics`` for Prometheus. None of them needs a key: they say nothing about anyone's data,
and they sit on the port the platform probes; keep that port off the public network.

Readiness is cheap enough to poll every few seconds: the database and Milvus checks are one
round trip each, and the model checks (which may load a model or call a server) are cached
for 30 seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from ddq.kb import KnowledgeBase
from ddq.metrics import REGISTRY

MODEL_CHECK_TTL_S = 30.0


class Readiness:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._models: tuple[float, dict[str, str]] | None = None
        self._lock = threading.Lock()

    def checks(self) -> dict[str, str]:
        results: dict[str, str] = {}
        try:
            with self.kb.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            results["database"] = "ok"
        except Exception as exc:
            results["database"] = f"failing: {type(exc).__name__}"
        try:
            self.kb._client().list_collections()
            results["vector_index"] = "ok"
        except Exception as exc:
            results["vector_index"] = f"failing: {type(exc).__name__}: {str(exc)[:120]}"
        results.update(self._model_checks())
        return results

    def _model_checks(self) -> dict[str, str]:
        with self._lock:
            now = time.monotonic()
            if self._models is not None and now - self._models[0] < MODEL_CHECK_TTL_S:
                return self._models[1]
            from ddq.models.check import check_models

            found = {f"model:{c.role}": ("ok" if c.ok else f"failing: {c.detail}")
                     for c in check_models(self.kb) if c.ok is not None}
            self._models = (now, found)
            return found


def job_counts(kb: KnowledgeBase) -> dict[str, int]:
    from ddq.store.schema import QuestionnaireRow

    with kb.store.engine.connect() as connection:
        rows = connection.execute(select(QuestionnaireRow.state, func.count())
                                  .group_by(QuestionnaireRow.state))
        return {str(state): int(n) for state, n in rows}


def store_chunks(kb: KnowledgeBase) -> dict[str, int]:
    from ddq.store.schema import ChunkRow

    with kb.store.engine.connect() as connection:
        return {"chunks": int(connection.execute(select(func.count()).select_from(ChunkRow))
                              .scalar() or 0)}


def index_entities(kb: KnowledgeBase) -> dict[str, int]:
    try:
        return {kind: index.count() for kind, index in (("chunks", kb.chunk_index),
                                                        ("questions", kb.question_index))}
    except Exception:
        return {}


def router() -> APIRouter:
    api = APIRouter(include_in_schema=False)

    @api.get("/livez")
    def livez() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    def readyz(request: Request, verbose: bool = False) -> Any:
        checks = request.app.state.readiness.checks()
        ready = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {"status": "ready" if ready else "not ready"}
        if verbose or not ready:
            body["checks"] = checks
        return JSONResponse(body, status_code=200 if ready else 503)

    @api.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return api
