"""The request guard: what every request gets before any route reads its body.

Two rules, in this order, for every HTTP request:

1. **Keys first.** A route under ``/api/`` or ``/v1/`` needs an API key, and a form post
   under ``/ui/`` (other than signing in and out) needs the sign-in cookie. The key is looked
   up before one byte of the body is read: a request without a live key is answered 401 (the
   UI: sent to the sign-in page) at the cost of its headers, however large its body, and
   the connection is closed so its body is never read.
2. **Bodies bounded as they arrive.** A multipart body may be ``max_request_mb``, any other
   body ``max_json_mb``. A larger ``Content-Length`` is 413 at once; a body without one (or
   that lies about it) is counted chunk by chunk as the route reads it, and the request is
   answered 413 the moment it passes the limit, before the rest is buffered or spooled.

Refusals are in the service's error format (``{"error_code", "detail"}``). The route a
refused request was for is recorded in the scope, so the metrics count it under its route.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ddq.api.auth import AuthThrottled, key_of, unauthorized
from ddq.config import Settings
from ddq.errors import DDQError, ErrorCode

log = logging.getLogger("ddq.api")

_KEYED_PREFIXES = ("/api/", "/v1/")
_UI_OPEN = ("/ui/login", "/ui/logout")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MB = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised into the route that reads past the limit; the guard answers 413 instead of
    whatever the route makes of it."""


def needs_key(method: str, path: str) -> bool:
    if path.startswith(_KEYED_PREFIXES):
        return True
    return method in _BODY_METHODS and path.startswith("/ui/") and path not in _UI_OPEN


class RequestGuard:
    """ASGI middleware; see the module docstring. Settings are read from the app's knowledge
    base at request time, so a test's own knowledge base is the one that counts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings: Settings = request.app.state.kb.settings
        content_type = request.headers.get("content-type", "").lower()
        multipart = content_type.startswith("multipart/")
        limit = int((settings.max_request_mb if multipart else settings.max_json_mb) * _MB)
        method, path = scope["method"], scope["path"]

        if needs_key(method, path):
            refusal = await self._check_key(request)
            if refusal is not None:
                self._name_route(scope)
                await refusal(send)
                return

        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            self._name_route(scope)
            await _too_large(send, limit, multipart)
            return

        await self._bounded(scope, receive, send, limit, multipart)

    async def _check_key(self, request: Request) -> Any:
        """None when the request may go on; else what to answer."""
        try:
            info = await run_in_threadpool(key_of, request)
        except AuthThrottled as exc:
            return _error(429, exc.code, exc.detail,
                          {"retry-after": str(exc.retry_after_s)})
        except SQLAlchemyError as exc:  # the driver's first line: hosts, no traceback
            log.error("key lookup failed: %s", str(exc).splitlines()[0][:300])
            return _error(503, ErrorCode.STORE_ERROR, "the database is not answering; "
                                                      "retry shortly")
        if info is not None:
            return None
        if request.url.path.startswith("/ui/"):
            return _redirect("/ui/login")
        problem = unauthorized(request)
        return _error(401, problem.code, problem.detail, {"www-authenticate": "Bearer"})

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int,
                       multipart: bool) -> None:
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return  # the route's answer to a body cut short; the guard answers instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not over:
                raise
        if over and not started:
            await _too_large(send, limit, multipart)

    @staticmethod
    def _name_route(scope: Scope) -> None:
        """Record the route a request was for, as the router would have (for the metrics)."""
        for route in getattr(scope["app"].state, "routes", ()):
            match, _ = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                return


def _error(status: int, code: ErrorCode, detail: str, headers: dict[str, str] | None = None
           ) -> Any:
    body = json.dumps({"error_code": code.value, "detail": detail}).encode()
    return _respond(status, body, b"application/json", headers or {})


def _redirect(location: str) -> Any:
    return _respond(303, b"", b"text/plain", {"location": location})


def _respond(status: int, body: bytes, media: bytes, headers: dict[str, str]) -> Any:
    async def answer(send: Send) -> None:
        # The body was not read: close the connection rather than read it to keep it alive.
        raw = [(b"content-type", media), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
        raw += [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return answer


async def _too_large(send: Send, limit: int, multipart: bool) -> None:
    what = "a multipart upload" if multipart else "a request body"
    problem = DDQError(ErrorCode.FILE_TOO_LARGE,
                       f"{what} may be at most {limit / _MB:g} MB "
                       f"({'DDQ_MAX_REQUEST_MB' if multipart else 'DDQ_MAX_JSON_MB'})")
    await _error(413, problem.code, problem.detail)(send)
