"""One error format for every route: ``{"error_code": ..., "detail": ...}``."""

from __future__ import annotations

import html
import logging
import pathlib
import re
from typing import Annotated

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import SQLAlchemyError

from ddq.errors import DDQError, ErrorCode

log = logging.getLogger("ddq.api")

STATUS = {
    ErrorCode.CONFIG: 500,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.STORE_ERROR: 503,
    ErrorCode.INDEX_ERROR: 503,
    ErrorCode.FILE_TOO_LARGE: 413,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    # A file that arrived but cannot be used as what it claims to be.
    ErrorCode.UNREADABLE_FILE: 422,
    ErrorCode.ENCRYPTED_FILE: 422,
    ErrorCode.EMPTY_FILE: 422,
    ErrorCode.UNSAFE_FILE: 422,
    ErrorCode.NO_QUESTIONS: 422,
    ErrorCode.NO_QUESTION_COLUMN: 422,
    ErrorCode.NO_ANSWER_COLUMN: 422,
    ErrorCode.UNSUPPORTED_FORMAT: 415,
}


#: A row id in a path: the database's integer range, so an absurd number is a 422, not a 500.
MAX_INT = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_INT)]


class RequestBody(BaseModel):
    """A JSON request body: a field the route does not know is a 422, not quietly dropped
    (a misspelt field would otherwise look accepted)."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    error_code: str
    detail: str


def without_server_paths(detail: str, home: pathlib.Path) -> str:
    """``detail`` with every path under the data directory cut to its file name: where the
    service keeps things (``…/questionnaires/acme/<hash>/file.xlsx``) is nobody's business."""
    roots = {str(home), str(home.resolve())}
    for root in sorted(roots, key=len, reverse=True):
        detail = re.sub(re.escape(root.rstrip("/")) + r"/(?:[^/\s:'\"]+/)*", "", detail)
    return detail


def error_response(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error_code": code, "detail": detail})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DDQError)
    async def ddq_error(request: Request, exc: DDQError) -> Response:
        status = STATUS.get(exc.code, 400)
        kb = getattr(request.app.state, "kb", None)
        detail = exc.detail if kb is None else without_server_paths(exc.detail,
                                                                    kb.settings.home)
        if request.url.path.startswith("/ui"):
            # A person in the browser gets a page, with the same one-line message.
            body = (f"<!doctype html><title>DDQ</title><main style='font-family:system-ui;"
                    f"max-width:640px;margin:40px auto'><h1>That did not work</h1>"
                    f"<p>{html.escape(detail)}</p><p><a href='/ui'>Back to the "
                    f"questionnaires</a></p></main>")
            response: Response = HTMLResponse(body, status_code=status)
        else:
            response = error_response(status, exc.code.value, detail)
        if exc.code is ErrorCode.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = "Bearer"
        if exc.code is ErrorCode.RATE_LIMITED:
            response.headers["Retry-After"] = str(getattr(exc, "retry_after_s", 1))
        return response

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> Response:
        # The driver's text (hosts, statements) goes to the log, not to the caller.
        log.error("database error on %s: %s", request.url.path, str(exc).splitlines()[0])
        return await ddq_error(request, DDQError(
            ErrorCode.STORE_ERROR, "the database is not answering or refused the change; "
                                   "retry shortly"))

    @app.exception_handler(OSError)
    async def file_error(request: Request, exc: OSError) -> Response:
        log.error("file system error on %s: %s", request.url.path, exc)
        return await ddq_error(request, DDQError(
            ErrorCode.STORE_ERROR, f"the service cannot read or write its data "
                                   f"({exc.strerror or type(exc).__name__}); retry shortly"))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return error_response(422, ErrorCode.INVALID_INPUT.value, f"{where}: {first['msg']}")
