"""Which failures a service job waits out (the database's, which pass by themselves) and
which fail it, and what a failed job's status says: a line for people, never the driver's
text (that goes to the log)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from ddq.api.jobs import is_transient, status_text
from ddq.errors import DDQError, ErrorCode

pytestmark = pytest.mark.unit

DRIVER = ("terminating connection due to administrator command\n"
          "(Background on this error at: https://sqlalche.me/e/20/e3q8)")


def _wrapped(cause: BaseException) -> DDQError:
    try:
        raise DDQError(ErrorCode.STORE_ERROR, f"database error: {cause}") from cause
    except DDQError as exc:
        return exc


def test_a_lost_connection_is_waited_out_even_inside_a_store_error() -> None:
    shutdown = OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown(DRIVER))
    assert is_transient(shutdown)
    assert is_transient(_wrapped(shutdown))


def test_a_mistake_in_the_data_or_the_schema_fails_the_job() -> None:
    assert not is_transient(ProgrammingError("SELECT nope", {}, Exception("no column")))
    assert not is_transient(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_transient(DDQError(ErrorCode.NOT_FOUND, "the knowledge base is empty"))
    assert not is_transient(ValueError("a bug"))


def test_a_failed_jobs_status_has_no_driver_text() -> None:
    shutdown = OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown(DRIVER))
    for failure in (shutdown, _wrapped(shutdown),
                    ProgrammingError("SELECT nope", {}, Exception("column x missing"))):
        text = status_text(failure, 7)
        assert "sqlalche.me" not in text and "psycopg" not in text and "SELECT" not in text
        assert "start the job again" in text
    assert status_text(ValueError("x"), 7).startswith("an internal error stopped this job "
                                                      "(ValueError; details in the service "
                                                      "log under job 7)")
    empty = DDQError(ErrorCode.NOT_FOUND, "the knowledge base of workspace 'acme' is empty")
    assert status_text(empty, 7) == empty.detail  # already written for people
