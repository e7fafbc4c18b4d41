"""The service when its database or data directory fails, against the real service under
uvicorn and a real PostgreSQL: a table lock held by another session makes /readyz say "not
ready" within its timeout and requests fail with 503 (the statement timeout) instead of
hanging; a database that is gone is 503 in the error format on every route; a data
directory that cannot be written is 503 too; everything recovers once the fault is gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.pg_admin import own_database as own_database_of
from support.pg_admin import rename_database
from support.service import serve

pytestmark = pytest.mark.integration

STATEMENT_TIMEOUT_S = 1.5
READINESS_TIMEOUT_S = 0.5


def _timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def _is_error_format(response: httpx.Response, code: str) -> bool:
    body = response.json()
    return set(body) == {"error_code", "detail"} and body["error_code"] == code


@pytest.fixture
def pg_service(empty_pg_url: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        database_url=empty_pg_url,
                        database_statement_timeout_s=STATEMENT_TIMEOUT_S,
                        readiness_timeout_s=READINESS_TIMEOUT_S)
    kb = KnowledgeBase(settings)
    key = KeyStore(kb.store.engine).create(workspace="acme", name="me", role=Role.EDITOR)[1]
    try:
        with serve(create_app(settings, kb=kb)) as url:
            yield url, key, empty_pg_url
    finally:
        kb.close()


@pytest.mark.postgres
@pytest.mark.parametrize(("table", "blocked"), [
    ("api_keys", ["/api/me", "/api/documents", "/api/ask"]),  # every key lookup
    ("documents", ["/api/documents"]),
])
def test_a_table_lock_makes_readiness_fail_fast_and_requests_503(
        pg_service: tuple[str, str, str], table: str, blocked: list[str]) -> None:
    url, key, database = pg_service
    headers = {"X-API-Key": key}
    # The first probe checks the models too (cached after): a loaded machine needs time.
    assert httpx.get(f"{url}/readyz", timeout=30).status_code == 200
    locker = create_engine(make_url(database).set(drivername="postgresql+psycopg"))
    try:
        with locker.connect() as connection:
            connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            for _ in range(3):  # every probe while it lasts, not only the first
                ready, seconds = _timed(lambda: httpx.get(f"{url}/readyz", timeout=10))
                print(f"lock on {table}: /readyz {ready.status_code} in {seconds:.2f} s")
                assert ready.status_code == 503 and seconds < 2.0
                assert ready.json()["checks"]["database"].startswith("failing")
            if "/api/me" not in blocked:  # a route that does not read the table works on
                assert httpx.get(f"{url}/api/me", headers=headers).status_code == 200
            for path in blocked:
                method = "POST" if path == "/api/ask" else "GET"
                answer, seconds = _timed(lambda m=method, p=path: httpx.request(
                    m, f"{url}{p}", headers=headers, timeout=30,
                    json={"question": "Is data encrypted?"} if m == "POST" else None))
                print(f"lock on {table}: {method} {path} {answer.status_code} in "
                      f"{seconds:.2f} s")
                assert answer.status_code == 503, (path, answer.text)
                assert _is_error_format(answer, "store_error")
                assert seconds < STATEMENT_TIMEOUT_S + 3.0
            connection.rollback()  # the lock goes with the transaction
    finally:
        locker.dispose()
    deadline = time.monotonic() + 10
    while httpx.get(f"{url}/readyz").status_code != 200:
        assert time.monotonic() < deadline, "readiness did not come back"
        time.sleep(0.1)
    assert httpx.get(f"{url}/api/me", headers=headers).status_code == 200
    assert httpx.get(f"{url}/api/documents", headers=headers).status_code == 200


@pytest.fixture
def own_database() -> Iterator[str]:
    """A database of this test's own, which it may rename away and back."""
    with own_database_of("ddq_gone") as url:
        yield url


@pytest.mark.postgres
def test_with_the_database_gone_every_route_is_503_in_the_error_format(
        own_database: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        database_url=own_database, readiness_timeout_s=READINESS_TIMEOUT_S)
    kb = KnowledgeBase(settings)
    key = KeyStore(kb.store.engine).create(workspace="acme", name="me", role=Role.ADMIN)[1]
    name = make_url(own_database).database
    assert name is not None
    try:
        with serve(create_app(settings, kb=kb)) as url, httpx.Client(
                base_url=url, timeout=30, headers={"X-API-Key": key}) as client:
            assert client.get("/api/me").status_code == 200
            rename_database(own_database, name, f"{name}_away")
            try:
                for method, path, body in [
                        ("GET", "/api/me", None), ("GET", "/api/documents", None),
                        ("POST", "/api/ask", {"question": "Is data encrypted?"}),
                        ("POST", "/api/search", {"question": "encryption"}),
                        ("GET", "/api/audit", None), ("GET", "/api/library", None),
                        ("GET", "/api/questionnaires", None), ("GET", "/v1/models", None)]:
                    answer = client.request(method, path, json=body)
                    assert answer.status_code == 503, (path, answer.text)
                    assert _is_error_format(answer, "store_error"), path
                    assert "psycopg" not in answer.text and name not in answer.text
                uploaded = client.post("/api/documents", files=[
                    ("files", ("policy.md", b"# Policy\n\nData is encrypted.\n",
                               "text/markdown"))])
                assert uploaded.status_code == 503 and _is_error_format(uploaded,
                                                                        "store_error")
                page = client.get("/ui", cookies={"ddq_key": key})
                assert page.status_code == 503 and "That did not work" in page.text
                ready = client.get("/readyz")
                assert ready.status_code == 503
            finally:
                rename_database(own_database, f"{name}_away", name)
            deadline = time.monotonic() + 10
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert client.get("/api/me").status_code == 200
    finally:
        kb.close()


def test_a_data_directory_that_cannot_be_written_is_503(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    kb = KnowledgeBase(settings)
    key = KeyStore(kb.store.engine).create(workspace="acme", name="me", role=Role.EDITOR)[1]
    uploads = settings.home / "uploads"
    try:
        with serve(create_app(settings, kb=kb)) as url, httpx.Client(
                base_url=url, timeout=30, headers={"X-API-Key": key}) as client:
            # A file where the uploads folder should be: every write under it fails.
            uploads.write_bytes(b"")
            answer = client.post("/api/documents", files=[
                ("files", ("policy.md", b"# Policy\n\nData is encrypted.\n", "text/markdown"))])
            assert answer.status_code == 503, answer.text
            assert _is_error_format(answer, "store_error")
            assert str(settings.home) not in answer.text
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["data_directory"] == ("failing: the uploads folder "
                                                                "is not writable")
            uploads.unlink()
            assert client.get("/readyz").status_code == 200
            again = client.post("/api/documents", files=[
                ("files", ("policy.md", b"# Policy\n\nData is encrypted.\n", "text/markdown"))])
            assert again.status_code == 200 and again.json()[0]["outcome"] == "added"
    finally:
        kb.close()
