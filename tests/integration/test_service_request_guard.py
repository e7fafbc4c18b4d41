"""Request bodies are bounded before they are trusted, against the real service under
uvicorn: a request without a key costs its headers however large its body, a body past the
limit is refused as it arrives (with or without a Content-Length), and a JSON body with a
field the route does not know is a 422.

The service runs in this process (tests/support/service.py), so the memory measured is the
server's and this test's together; the bodies come from generators, so the test holds one
megabyte of them at a time."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.raw_http import (
    MB,
    Answer,
    Peaks,
    bytes_under,
    multipart_length,
    multipart_parts,
    rss_bytes,
    send,
    zeros,
)
from support.service import serve

pytestmark = pytest.mark.integration

BOUNDARY = "ddqtestboundary"
GROWTH_LIMIT = 50 * MB


@dataclass
class Guarded:
    url: str
    kb: KnowledgeBase
    keys: dict[str, str]
    temporary: Path

    @property
    def folders(self) -> list[Path]:
        return [self.temporary, self.kb.settings.home]


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guarded]:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))  # where uploads are spooled
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64", max_json_mb=8,
                        max_request_mb=20, max_upload_mb=50)
    kb = KnowledgeBase(settings)
    store = KeyStore(kb.store.engine)
    keys = {role.label: store.create(workspace="acme", name=role.label, role=role)[1]
            for role in (Role.VIEWER, Role.EDITOR)}
    try:
        with serve(create_app(settings, kb=kb)) as url:
            yield Guarded(url, kb, keys, temporary)
    finally:
        kb.close()


def _measured(guarded: Guarded, method: str, path: str, headers: dict[str, str],
              body: Iterator[bytes], *, chunked: bool = False) -> tuple[Answer, int, int]:
    """The answer, and how much the process's memory and the temporary files grew at most
    while it was made."""
    before_rss = rss_bytes()
    before_disk = sum(bytes_under(f) for f in guarded.folders)
    with Peaks(guarded.folders) as peaks:
        answer = send(guarded.url, method, path, headers, body, chunked=chunked)
    return answer, peaks.rss - before_rss, peaks.disk - before_disk


def test_a_300_mb_json_body_without_a_key_is_refused_at_once(guarded: Guarded) -> None:
    total = 300 * MB
    answer, grew, disk = _measured(
        guarded, "POST", "/api/ask",
        {"Content-Type": "application/json", "Content-Length": str(total)}, zeros(total))
    print(f"300 MB JSON, no key: {answer.status} in {answer.seconds:.3f} s, "
          f"RSS +{grew / MB:.1f} MB, temporary files {disk / MB:.1f} MB, "
          f"{answer.body_bytes_sent / MB:.1f} MB sent before the answer")
    assert answer.status == 401
    assert answer.seconds < 1.0
    assert grew < GROWTH_LIMIT and disk < GROWTH_LIMIT
    assert b'"error_code":"unauthorized"' in answer.body.replace(b" ", b"")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{guarded.url}/livez").status_code == 200


def test_a_1_gb_multipart_body_without_a_key_is_refused_at_once(guarded: Guarded) -> None:
    total = 1024 * MB
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
               "Content-Length": str(multipart_length(BOUNDARY, "big.md", total))}
    answer, grew, disk = _measured(guarded, "POST", "/api/documents", headers,
                                   multipart_parts(BOUNDARY, "big.md", total))
    print(f"1 GB multipart, no key: {answer.status} in {answer.seconds:.3f} s, "
          f"RSS +{grew / MB:.1f} MB, temporary files {disk / MB:.1f} MB")
    assert answer.status == 401
    assert answer.seconds < 1.0
    assert grew < GROWTH_LIMIT and disk < GROWTH_LIMIT
    assert guarded.kb.store.documents("acme") == []


def test_bodies_without_a_length_and_without_a_key_are_refused_unread(guarded: Guarded
                                                                      ) -> None:
    for path, content_type in [("/api/ask", "application/json"),
                               ("/api/documents", f"multipart/form-data; boundary={BOUNDARY}"),
                               ("/v1/embeddings", "application/json")]:
        answer, grew, _ = _measured(guarded, "POST", path, {"Content-Type": content_type},
                                    zeros(300 * MB), chunked=True)
        assert answer.status == 401, path
        assert answer.seconds < 1.0, path
        assert grew < GROWTH_LIMIT, path
    # A wrong key is no better than none.
    answer = send(guarded.url, "POST", "/api/ask",
                  {"Content-Type": "application/json", "X-API-Key": "ddq_wrong"},
                  zeros(300 * MB), chunked=True)
    assert answer.status == 401 and answer.seconds < 1.0


def test_the_ui_upload_without_a_sign_in_is_sent_to_the_sign_in_page_unread(
        guarded: Guarded) -> None:
    total = 1024 * MB
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
               "Content-Length": str(multipart_length(BOUNDARY, "q.xlsx", total))}
    answer, grew, disk = _measured(guarded, "POST", "/ui/questionnaires", headers,
                                   multipart_parts(BOUNDARY, "q.xlsx", total))
    assert answer.status == 303 and answer.headers["location"] == "/ui/login"
    assert answer.seconds < 1.0
    assert grew < GROWTH_LIMIT and disk < GROWTH_LIMIT


def test_a_declared_length_past_the_limit_is_413_before_the_body_even_with_a_key(
        guarded: Guarded) -> None:
    viewer = {"Authorization": f"Bearer {guarded.keys['viewer']}"}
    answer, grew, _ = _measured(
        guarded, "POST", "/api/ask",
        {**viewer, "Content-Type": "application/json", "Content-Length": str(300 * MB)},
        zeros(300 * MB))
    assert answer.status == 413 and answer.seconds < 1.0
    assert grew < GROWTH_LIMIT
    assert answer.body == (b'{"error_code": "file_too_large", "detail": "a request body '
                           b'may be at most 8 MB (DDQ_MAX_JSON_MB)"}')


def test_a_body_that_runs_past_the_limit_is_cut_off_as_it_arrives(guarded: Guarded) -> None:
    viewer = {"Authorization": f"Bearer {guarded.keys['viewer']}",
              "Content-Type": "application/json"}
    answer, grew, _ = _measured(guarded, "POST", "/api/ask", viewer, zeros(300 * MB),
                                chunked=True)
    print(f"300 MB chunked JSON, viewer key: {answer.status} in {answer.seconds:.3f} s, "
          f"RSS +{grew / MB:.1f} MB after {answer.body_bytes_sent / MB:.0f} MB sent")
    assert answer.status == 413
    assert b"file_too_large" in answer.body
    assert answer.body_bytes_sent < 100 * MB
    assert grew < GROWTH_LIMIT

    editor = {"Authorization": f"Bearer {guarded.keys['editor']}",
              "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    answer, grew, disk = _measured(guarded, "POST", "/api/documents", editor,
                                   multipart_parts(BOUNDARY, "big.md", 1024 * MB),
                                   chunked=True)
    print(f"1 GB chunked multipart, editor key: {answer.status} in {answer.seconds:.3f} s, "
          f"temporary files at most {disk / MB:.1f} MB")
    assert answer.status == 413
    assert b"DDQ_MAX_REQUEST_MB" in answer.body
    assert disk < 20 * MB + 2 * MB  # the 20 MB limit, and no more, was ever spooled
    # Nothing of it is left behind, and nothing was ingested.
    assert bytes_under(guarded.temporary) == 0
    assert guarded.kb.store.documents("acme") == []
    assert httpx.get(f"{guarded.url}/livez").status_code == 200


def test_bodies_within_the_limits_still_work(guarded: Guarded) -> None:
    with httpx.Client(base_url=guarded.url, timeout=60,
                      headers={"Authorization": f"Bearer {guarded.keys['editor']}"}) as client:
        text = b"# Policy\n\nCustomer data is encrypted at rest with AES-256.\n" * 1000
        uploaded = client.post("/api/documents",
                               files=[("files", ("policy.md", text, "text/markdown"))])
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()[0]["outcome"] == "added"
        asked = client.post("/api/ask", json={"question": "Is customer data encrypted?"})
        assert asked.status_code == 200


def test_a_json_body_with_an_unknown_field_is_refused(guarded: Guarded) -> None:
    with httpx.Client(base_url=guarded.url, timeout=60,
                      headers={"Authorization": f"Bearer {guarded.keys['viewer']}"}) as client:
        refused = client.post("/api/ask", json={"question": "Is data encrypted?",
                                                "padding": "x" * 1000})
        assert refused.status_code == 422
        assert refused.json() == {"error_code": "invalid_input",
                                  "detail": "padding: Extra inputs are not permitted"}
        searched = client.post("/api/search", json={"question": "encrypted", "k": 3,
                                                    "extra": 1})
        assert searched.status_code == 422
