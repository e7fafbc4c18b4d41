"""The app factory: ``create_app(settings)`` builds the service; ``ddq serve`` runs it."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from ddq import __version__, metrics, tracing
from ddq.api import health
from ddq.api import knowledge as knowledge_api
from ddq.api import library as library_api
from ddq.api import models as models_api
from ddq.api import questionnaires as questionnaires_api
from ddq.api import stale as stale_api
from ddq.api import ui as ui_pages
from ddq.api.auth import FailedAuthThrottle, RateLimiter
from ddq.api.deadline import RequestDeadline
from ddq.api.errors import install_error_handlers
from ddq.api.guard import RequestGuard
from ddq.api.health import Readiness, index_entities, job_counts, store_chunks
from ddq.api.jobs import JobWorker
from ddq.api.leftovers import remove_leftovers
from ddq.config import Settings
from ddq.errors import DDQError
from ddq.kb import KnowledgeBase
from ddq.logs import REQUEST_ID
from ddq.metrics import HTTP_DURATION, HTTP_IN_FLIGHT, HTTP_REQUESTS, set_state_sources

log = logging.getLogger("ddq.api")
_SAFE_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


def create_app(settings: Settings, *, kb: KnowledgeBase | None = None,
               run_jobs: bool = True) -> FastAPI:
    """The service. ``run_jobs`` starts the job worker in this process (turn it off for a
    process that only serves requests while others work through the queue)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = kb is None
        app.state.kb = kb or KnowledgeBase(settings)
        # Derived state repairs itself on start: vectors and a keyword index left behind the
        # store (a crash mid-ingest) are written again before the first request uses them.
        for workspace in app.state.kb.store.workspaces():
            scoped = app.state.kb.scoped(workspace)
            for name, ensure in (("vector", scoped.ensure_vector_index),
                                 ("keyword", scoped.ensure_keyword_index)):
                try:
                    ensure()
                except (OSError, DDQError) as exc:  # serve anyway; /readyz names a bad folder
                    log.warning("%s index of %s could not be repaired: %s", name, workspace,
                                exc)
        remove_leftovers(app.state.kb.settings.home, app.state.kb.store)
        app.state.write_lock = threading.Lock()
        per_minute = app.state.kb.settings.rate_limit_per_minute
        app.state.limiter = RateLimiter(per_minute) if per_minute > 0 else None
        failures = app.state.kb.settings.auth_failures_per_minute
        app.state.auth_throttle = FailedAuthThrottle(failures) if failures > 0 else None
        app.state.worker = JobWorker(app.state.kb, write_lock=app.state.write_lock)
        app.state.readiness = Readiness(app.state.kb)
        set_state_sources(lambda: job_counts(app.state.kb),
                          lambda: index_entities(app.state.kb),
                          lambda: store_chunks(app.state.kb))
        if run_jobs:
            app.state.worker.start()
        try:
            yield
        finally:
            set_state_sources(None, None)
            if run_jobs:
                app.state.worker.stop()  # a running job goes back to the queue
            if owned:
                app.state.kb.close()

    app = FastAPI(title="DDQ", version=__version__, lifespan=lifespan,
                  description="Answers due-diligence questionnaires from an approved "
                              "knowledge base, with citations.")
    install_error_handlers(app)
    # Added before the middlewares below, so it runs inside them: refusals are measured and
    # carry a request id like every other answer.
    app.add_middleware(RequestGuard)
    # Outside the guard, so the key lookup is inside the deadline too (a lock on the keys
    # table must not hang every request).
    app.add_middleware(RequestDeadline)
    health_routes = health.router()
    app.include_router(health_routes)

    @app.middleware("http")
    async def trace(request: Request, call_next: Any) -> Any:
        """A server span per request (when tracing is on), continuing the caller's trace."""
        if not tracing.enabled():
            return await call_next(request)
        with tracing.span(f"{request.method} {request.url.path}", kind="server",
                          carrier=dict(request.headers),
                          attributes={"http.request.method": request.method}) as current:
            response = await call_next(request)
            route = getattr(request.scope.get("route"), "path", None) or "unmatched"
            current.update_name(f"{request.method} {route}")
            tracing.set_attributes(current, {"http.route": route,
                                             "http.response.status_code":
                                                 response.status_code})
            if (request_id := REQUEST_ID.get()) is not None:  # set by `measure`, outside
                tracing.set_attributes(current, {"ddq.request_id": request_id})
            return response

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Any:
        if not metrics.ENABLED:  # the overhead benchmark's baseline
            return await call_next(request)
        given = request.headers.get("x-request-id", "")
        request_id = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        HTTP_IN_FLIGHT.inc()
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = request_id
            return response
        finally:
            HTTP_IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            HTTP_REQUESTS.labels(template, request.method, str(status)).inc()
            HTTP_DURATION.labels(template, request.method).observe(seconds)
            if template not in ("/livez", "/readyz", "/metrics"):
                log.info("request", extra={"route": template, "method": request.method,
                                           "status": status,
                                           "duration_ms": round(seconds * 1000, 1)})
            REQUEST_ID.reset(token)
    routers = [health_routes, models_api.router(), knowledge_api.router(),
               questionnaires_api.router(), library_api.router(), stale_api.router(),
               ui_pages.router()]
    for included in routers[1:]:
        app.include_router(included)
    # The routes themselves, for the request guard to name the route of what it refuses.
    app.state.routes = [route for included in routers for route in included.routes]
    ui_pages.install_sign_in_redirect(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=307)
    return app
