"""The request deadline: every request is answered within ``request_timeout_s`` (a multipart
upload within ``upload_timeout_s``), whatever it waits on.

The statement timeout bounds one database statement; a request may run several, wait on a
model, or wait for a thread of the pool. The deadline bounds what the caller sees: when no
answer has started by then, the caller gets 503 in the error format with ``Retry-After`` and
the connection is closed. The work itself cannot be stopped from here (a route's thread runs
to its end, which the statement timeout bounds), so a write that ran past the deadline may
still be committed; every write DDQ takes is safe to send again (an unchanged file is
skipped, a review action names the version it saw). Once an answer has started (a download
streaming) the deadline no longer applies.

``/livez`` and ``/readyz`` are exempt: they have their own, shorter bounds.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ddq.errors import ErrorCode

log = logging.getLogger("ddq.api")

_EXEMPT = frozenset({"/livez", "/readyz"})
#: Requests whose work went on past their deadline (kept so the loop does not drop them).
_ABANDONED: set[asyncio.Task[Any]] = set()


def _retrieve(task: asyncio.Task[Any]) -> None:
    _ABANDONED.discard(task)
    if not task.cancelled() and (problem := task.exception()) is not None:
        log.warning("a request past its deadline ended with %s", type(problem).__name__)


class RequestDeadline:
    """ASGI middleware; see the module docstring. The timeouts are read from the app's
    knowledge base per request, so a test's own settings are the ones that count."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _EXEMPT:
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.kb.settings
        content_type = dict(scope.get("headers", ())).get(b"content-type", b"").lower()
        upload = content_type.startswith(b"multipart/")
        timeout = settings.upload_timeout_s if upload else settings.request_timeout_s
        if timeout <= 0:
            await self.app(scope, receive, send)
            return
        started = False
        late = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if late:
                return  # the caller already has its 503
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if done or started:
            await task  # finished, or answering already: the deadline is met
            return
        late = True
        task.cancel()  # an awaiting route stops; a route's thread runs to its own end
        _ABANDONED.add(task)
        task.add_done_callback(_retrieve)
        log.warning("request past its deadline", extra={
            "route": scope["path"], "method": scope["method"], "timeout_s": timeout})
        await _answer_late(send, timeout, upload)


async def _answer_late(send: Send, timeout: float, upload: bool) -> None:
    setting = "DDQ_UPLOAD_TIMEOUT_S" if upload else "DDQ_REQUEST_TIMEOUT_S"
    body = json.dumps({"error_code": ErrorCode.TIMEOUT.value,
                       "detail": f"no answer within {timeout:g} s ({setting}); the service "
                                 f"or its database is busy or unreachable; retry shortly"}
                      ).encode()
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"5"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
