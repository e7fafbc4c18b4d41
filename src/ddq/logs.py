"""Structured logs: one JSON object per line, with the request id and the job id of the work
it belongs to on every line, and no secrets and no question or document text by default.

``configure_logging`` is called by ``ddq serve``; the request middleware sets the request id
(from ``X-Request-ID`` when a proxy sends one) and the job worker sets the job id, through
context variables that every log line reads.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("ddq_request_id",
                                                                        default=None)
JOB_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("ddq_job_id", default=None)

#: LogRecord attributes that are not extra fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := REQUEST_ID.get()) is not None:
            entry["request_id"] = request_id
        if (job_id := JOB_ID.get()) is not None:
            entry["job_id"] = job_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) or \
                    value is None else str(value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(*, json_format: bool = True, level: str = "INFO",
                      stream: TextIO | None = None) -> logging.Handler:
    """Send DDQ's and uvicorn's logs to ``stream`` (stderr), as JSON lines or plain text."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # Our middleware logs each request (route template, status, duration, request id);
    # uvicorn's access line would repeat it with the raw path and query string.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("httpx", "httpcore", "bm25s", "milvus_lite", "pymilvus", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
