"""Health and metrics: ``/livez`` (the process answers), ``/readyz`` (the database, the
vector index and the configured models can be reached; ``?verbose`` says which), and
``/metrics`` for Prometheus. None of them needs a key: they say nothing about anyone's data,
and they sit on the port the platform probes; keep that port off the public network.

Readiness is cheap enough to poll every few seconds: the database and Milvus checks are one
round trip each, and the model checks (which may load a model or call a server) are cached
for 30 seconds.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from ddq.kb import KnowledgeBase
from ddq.metrics import REGISTRY
from ddq.store.schema import ApiKeyRow, DocumentRow, QuestionnaireRow

MODEL_CHECK_TTL_S = 30.0
#: What the service writes under DDQ_HOME (docs/operations.md: the volumes to mount).
WRITTEN_FOLDERS = ("keyword", "uploads", "questionnaires")


class Readiness:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.timeout_s = kb.settings.readiness_timeout_s
        self._models: tuple[float, dict[str, str]] | None = None
        self._lock = threading.Lock()
        # At most one database check at a time: while one hangs (a lock held, a dead
        # server) the next probes answer "not ready" at once instead of piling up threads.
        self._pending: Future[None] | None = None

    def _database_check(self) -> None:
        engine = self.kb.store.engine
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"SET LOCAL statement_timeout = "
                                        f"{max(1, int(self.timeout_s * 1000))}"))
            # The tables every request reads (keys) and most write: a lock held on them
            # blocks the service, so it must block readiness too; SELECT 1 would not see it.
            connection.execute(select(ApiKeyRow.id).limit(1))
            connection.execute(select(DocumentRow.id).limit(1))
            connection.execute(select(QuestionnaireRow.id).limit(1))

    def database(self) -> str:
        with self._lock:
            if self._pending is not None and not self._pending.done():
                return f"failing: no answer within {self.timeout_s:g} s (still waiting)"
            future: Future[None] = Future()
            self._pending = future

        def check() -> None:
            try:
                self._database_check()
            except BaseException as exc:  # handed to the waiting probe
                future.set_exception(exc)
            else:
                future.set_result(None)

        # A daemon thread, not an executor's: a check stuck on a dead server must not hold
        # up the process when it exits.
        threading.Thread(target=check, name="ddq-readyz", daemon=True).start()
        try:
            future.result(timeout=self.timeout_s)
        except FutureTimeout:
            return f"failing: no answer within {self.timeout_s:g} s"
        except Exception as exc:
            return f"failing: {type(exc).__name__}"
        return "ok"

    def checks(self) -> dict[str, str]:
        results: dict[str, str] = {"database": self.database()}
        results["data_directory"] = self._writable()
        try:
            self.kb._client().list_collections()
            results["vector_index"] = "ok"
        except Exception as exc:
            results["vector_index"] = f"failing: {type(exc).__name__}: {str(exc)[:120]}"
        if results["database"] != "ok":
            # The extractive drafter's check reads the store: it would only fail again.
            results["models"] = "not checked: the database is not answering"
            return results
        try:
            results.update(self._model_checks())
        except SQLAlchemyError as exc:  # the database went away between the two checks
            results["models"] = f"not checked: {type(exc).__name__}"
        return results

    def _writable(self) -> str:
        """The folders the service writes under the data directory (the keyword index and
        uploads) can be written. The data directory itself may be read-only (a container's
        read-only root with a volume on each folder): a folder not made yet is checked by
        the data directory it will be made in."""
        home = self.kb.settings.home
        for name in WRITTEN_FOLDERS:
            folder = home / name
            target = folder if folder.exists() else home
            if not os.access(target, os.W_OK | os.X_OK):
                return f"failing: the {name} folder is not writable"
        return "ok"

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
    """Jobs by state; none while the database does not answer (the scrape goes on: the
    metrics matter most then)."""
    from ddq.store.schema import QuestionnaireRow

    try:
        with kb.store.engine.connect() as connection:
            rows = connection.execute(select(QuestionnaireRow.state, func.count())
                                      .group_by(QuestionnaireRow.state))
            return {str(state): int(n) for state, n in rows}
    except SQLAlchemyError:
        return {}


def store_chunks(kb: KnowledgeBase) -> dict[str, int]:
    from ddq.store.schema import ChunkRow

    try:
        with kb.store.engine.connect() as connection:
            return {"chunks": int(connection.execute(
                select(func.count()).select_from(ChunkRow)).scalar() or 0)}
    except SQLAlchemyError:
        return {}


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
