"""Failed sign-ins are throttled per client address on the real service: bearer keys on
the API and the UI's sign-in form share one budget per address, refusals past it are 429
with Retry-After (even for a right key, so guessing cannot go on), and other addresses and
successful sign-ins are not affected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

FAILURES = 5  # per minute: one comes back every 12 s, longer than each test takes


@dataclass
class Throttled:
    url: str
    key: str

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        # Loopback answers on all of 127/8: another source address is another client.
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.url, transport=transport, timeout=30,
                            follow_redirects=False)


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[Throttled]:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        auth_failures_per_minute=FAILURES)
    kb = KnowledgeBase(settings)
    key = KeyStore(kb.store.engine).create(workspace="acme", name="me", role=Role.VIEWER)[1]
    try:
        with serve(create_app(settings, kb=kb)) as url:
            yield Throttled(url, key)
    finally:
        kb.close()


def test_wrong_bearer_keys_are_throttled_with_retry_after(throttled: Throttled) -> None:
    with throttled.client() as client:
        # Right keys cost nothing.
        for _ in range(3 * FAILURES):
            assert client.get("/api/me", headers={"X-API-Key": throttled.key}
                              ).status_code == 200
        answers = [client.get("/api/me", headers={"Authorization": f"Bearer ddq_guess{i}"})
                   for i in range(FAILURES + 3)]
        assert [a.status_code for a in answers] == [401] * FAILURES + [429] * 3
        refused = answers[-1]
        assert refused.json()["error_code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60 // FAILURES
        # While throttled, the right key is refused too (a guess that hits is no use), on
        # body routes as well, before the body is read.
        assert client.get("/api/me", headers={"X-API-Key": throttled.key}).status_code == 429
        ask = client.post("/api/ask", json={"question": "Is data encrypted?"},
                          headers={"X-API-Key": throttled.key})
        assert ask.status_code == 429 and "retry-after" in ask.headers
        # A request with no key at all is not a guess: 401, and it costs nothing.
        assert client.get("/api/me").status_code == 401
    with throttled.client("127.0.0.2") as other:
        assert other.get("/api/me", headers={"X-API-Key": throttled.key}).status_code == 200


def test_the_sign_in_form_is_throttled_too(throttled: Throttled) -> None:
    with throttled.client() as client:
        answers = [client.post("/ui/login", data={"key": f"ddq_guess{i}"})
                   for i in range(FAILURES + 2)]
        assert [a.status_code for a in answers] == [401] * FAILURES + [429] * 2
        assert int(answers[-1].headers["retry-after"]) >= 1
        assert "too many failed sign-ins" in answers[-1].text
        right = client.post("/ui/login", data={"key": throttled.key})
        assert right.status_code == 429 and "ddq_key" not in right.cookies
        # The same budget covers the API from this address.
        assert client.get("/api/me", headers={"X-API-Key": throttled.key}).status_code == 429
    with throttled.client("127.0.0.3") as other:
        signed_in = other.post("/ui/login", data={"key": throttled.key})
        assert signed_in.status_code == 303 and "ddq_key" in signed_in.cookies
