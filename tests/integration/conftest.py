"""Helpers for looking inside the real indexes a knowledge base writes, the real local
embedding model, and a real OpenAI-compatible server (llama.cpp) on a tiny model."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence

import pytest

from ddq.index.vector import MilvusVectorIndex
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder
from support.llama_server import LlamaServerError, llama_cpp_available, run_llama_server
from support.tiny_llama import write_tiny_llama_gguf

IdsOf = Callable[[MilvusVectorIndex], set[int]]
Snapshot = Callable[[KnowledgeBase, Sequence[str]], list[list[tuple[int, int | None, int | None]]]]


@pytest.fixture
def milvus_ids() -> IdsOf:
    """Every id stored in a Milvus collection (all workspaces), read back from Milvus."""

    def ids(index: MilvusVectorIndex) -> set[int]:
        if not index.exists():
            return set()
        index.ensure()  # a reopened Milvus Lite starts with its collections released
        rows = index._client.query(index.name, filter="id >= 0", output_fields=["id"])
        return {int(row["id"]) for row in rows}

    return ids


@pytest.fixture
def search_snapshot() -> Snapshot:
    """What a user sees from search: per query, (chunk id, dense rank, keyword rank)."""

    def snapshot(
        kb: KnowledgeBase, queries: Sequence[str]
    ) -> list[list[tuple[int, int | None, int | None]]]:
        return [
            [(h.chunk.id, h.dense_rank, h.keyword_rank) for h in kb.retrieve(q).hits]
            for q in queries
        ]

    return snapshot


@pytest.fixture(scope="session")
def local_embedder() -> Iterator[Embedder]:
    """The REAL all-MiniLM-L6-v2, loaded once per session with the network switched off.

    Any attempt to reach the network while loading fails the load, so the tests that use
    it also prove the shipped model works offline.
    """
    from ddq.models.local import SentenceTransformerEmbedder

    real_connect = socket.socket.connect

    def refuse(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network access attempted while loading the model: {address}")
        real_connect(sock, address)  # type: ignore[arg-type]

    def refuse_lookup(*args: object, **kwargs: object) -> None:
        raise OSError(f"DNS lookup attempted while loading the model: {args[:1]}")

    patch = pytest.MonkeyPatch()
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME"):
        patch.delenv(variable, raising=False)
    patch.setattr(socket.socket, "connect", refuse)
    patch.setattr(socket, "getaddrinfo", refuse_lookup)
    try:
        embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", batch_size=32)
        embedder.embed(["warm up"])  # loads the weights now, while the network is off
        assert embedder.loaded
    finally:
        patch.undo()
    yield embedder


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A REAL OpenAI-compatible server (llama.cpp) on a tiny random-weight model; its URL.

    The base URL ends in ``/v1``, ready for ``openai.OpenAI(base_url=...)``. The model is
    written on the spot (nothing is downloaded). ``llama-cpp-python[server]`` is part of the
    test environment, so its absence fails the tests; ``DDQ_TEST_NO_LLAMA=1`` skips them.
    """
    if os.environ.get("DDQ_TEST_NO_LLAMA") == "1":
        pytest.skip("DDQ_TEST_NO_LLAMA=1: the llama.cpp server tests are switched off")
    if not llama_cpp_available():
        pytest.fail(
            "llama-cpp-python[server] is not installed, so the OpenAI-compatible server "
            "tests cannot run: install it with `.venv/bin/pip install "
            "'llama-cpp-python[server]'` (compiles in a few minutes), or set "
            "DDQ_TEST_NO_LLAMA=1 to skip them",
            pytrace=False,
        )
    model = write_tiny_llama_gguf(tmp_path_factory.mktemp("tiny-llama") / "tiny-llama.gguf")
    try:
        with run_llama_server(model, n_ctx=4096) as base_url:
            yield base_url
    except LlamaServerError as exc:
        pytest.fail(str(exc), pytrace=False)
