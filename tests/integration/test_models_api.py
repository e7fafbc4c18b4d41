"""The model interface over HTTP, called by the official ``openai`` client and by httpx,
against the real app under uvicorn with a real store (SQLite) for the embedding cache."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.models.base import Role
from ddq.models.calls import reset_model_stats, stats_for
from ddq.store.keys import KeyStore
from ddq.store.keys import Role as KeyRole
from support.service import serve

pytestmark = pytest.mark.integration

EMBEDDER = "fake:hashing-64"


KEY: dict[str, str] = {}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, KnowledgeBase]]:
    reset_model_stats()
    settings = Settings(home=tmp_path / "home", embedder=EMBEDDER,
                        reranker="fake:overlap")
    kb = KnowledgeBase(settings)
    _, KEY["secret"] = KeyStore(kb.store.engine).create(workspace="default", name="tests",
                                                        role=KeyRole.VIEWER)
    try:
        with serve(create_app(settings, kb=kb)) as url:
            yield url, kb
    finally:
        kb.close()


def client_for(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY["secret"], max_retries=0)


def http() -> httpx.Client:
    return httpx.Client(headers={"Authorization": f"Bearer {KEY['secret']}"}, timeout=30)


def test_the_openai_client_gets_embeddings_from_the_service(
        service: tuple[str, KnowledgeBase]) -> None:
    url, kb = service
    client = client_for(url)
    texts = ["Customer data is encrypted at rest.", "Backups run daily."]
    # The SDK asks for base64 unless told otherwise; both encodings must work.
    default = client.embeddings.create(model=EMBEDDER, input=texts)
    floats = client.embeddings.create(model=EMBEDDER, input=texts, encoding_format="float")
    expected = kb.embedder.embed(texts)
    for response in (default, floats):
        assert response.model == EMBEDDER
        assert [d.index for d in response.data] == [0, 1]
        got = np.array([d.embedding for d in response.data], dtype=np.float32)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        assert response.usage.prompt_tokens > 0
    single = client.embeddings.create(model="hashing-64", input="Backups run daily.")
    np.testing.assert_allclose(single.data[0].embedding, expected[1], rtol=1e-6)


def test_known_texts_come_from_the_cache_without_a_model_call(
        service: tuple[str, KnowledgeBase]) -> None:
    url, _ = service
    body = {"model": EMBEDDER, "input": ["alpha beta", "gamma delta"], "encoding_format":
            "base64"}
    first = http().post(f"{url}/v1/embeddings", json=body).json()
    stats = stats_for(EMBEDDER, Role.EMBEDDER)
    calls = stats.calls
    second = http().post(f"{url}/v1/embeddings", json=body).json()
    assert stats.calls == calls  # no model call the second time
    assert stats.cache_hits >= 2
    assert first["data"] == second["data"]
    vector = np.frombuffer(base64.b64decode(first["data"][0]["embedding"]), dtype="<f4")
    assert vector.shape == (64,)


def test_models_lists_every_role(service: tuple[str, KnowledgeBase]) -> None:
    url, _ = service
    client = client_for(url)
    listed = {m.id: m for m in client.models.list().data}
    assert set(listed) == {EMBEDDER, "extractive", "fake:overlap"}
    raw = http().get(f"{url}/v1/models").json()["data"]
    roles = {m["id"]: (m["role"], m["capabilities"]) for m in raw}
    assert roles["extractive"][0] == "generator"
    assert roles["fake:overlap"] == ("reranker", ["rerank"])


@pytest.mark.parametrize(("body", "status", "code", "fragment"), [
    ({"model": "text-embedding-3-large", "input": "x"}, 404, "not_found", "not served here"),
    ({"model": EMBEDDER, "input": []}, 422, "invalid_input", "empty"),
    ({"model": EMBEDDER, "input": [[1, 2, 3]]}, 422, "invalid_input", "token arrays"),
    ({"model": EMBEDDER, "input": "  "}, 422, "invalid_input", "empty"),
    ({"model": EMBEDDER, "input": "x", "dimensions": 12}, 422, "invalid_input", "64 dim"),
    ({"input": "x"}, 422, "invalid_input", "model"),
])
def test_bad_requests_get_typed_errors(service: tuple[str, KnowledgeBase], body: dict,  # type: ignore[type-arg]
                                       status: int, code: str, fragment: str) -> None:
    url, _ = service
    response = http().post(f"{url}/v1/embeddings", json=body)
    assert response.status_code == status
    payload = response.json()
    assert payload["error_code"] == code
    assert fragment in payload["detail"]


def test_the_openai_client_sees_an_unknown_model_as_not_found(
        service: tuple[str, KnowledgeBase]) -> None:
    url, _ = service
    client = client_for(url)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="no-such-model", input="x")


def test_rerank_and_generate(service: tuple[str, KnowledgeBase]) -> None:
    url, kb = service
    ranked = http().post(f"{url}/v1/rerank", json={
        "query": "encrypted at rest", "top_n": 2,
        "documents": ["The cafeteria opens at noon.", "Data is encrypted at rest.",
                      "Backups are encrypted at night."]}).json()
    assert [r["index"] for r in ranked["results"]] == [1, 2]
    assert ranked["model_id"] == "fake:overlap"

    (tmp := Path(kb.settings.home) / "docs").mkdir()
    (tmp / "policy.md").write_text("# Encryption\nCustomer data is encrypted at rest with "
                                   "AES-256.\n", encoding="utf-8")
    kb.ingest_paths([tmp])
    drafted = http().post(f"{url}/v1/generate", json={
        "messages": [{"role": "user", "content": "draft"}],
        "grounding": {"question": "Is customer data encrypted at rest?", "yes_no": True,
                      "blocks": [{"id": "E1", "text": "Customer data is encrypted at rest "
                                                      "with AES-256."}]}})
    assert drafted.status_code == 200, drafted.text
    body = drafted.json()
    assert body["model_id"] == "extractive"
    assert '"citations": ["E1"]' in body["text"]
    no_grounding = http().post(f"{url}/v1/generate",
                              json={"messages": [{"role": "user", "content": "hi"}]})
    assert no_grounding.status_code == 422
    assert no_grounding.json()["error_code"] == "invalid_input"


def test_the_model_routes_need_a_key(service: tuple[str, KnowledgeBase]) -> None:
    url, _ = service
    missing = httpx.post(f"{url}/v1/embeddings", json={"model": EMBEDDER, "input": "x"})
    assert missing.status_code == 401
    assert missing.json()["error_code"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = openai.OpenAI(base_url=f"{url}/v1", api_key="ddq_not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.embeddings.create(model=EMBEDDER, input="x")
