"""Resolve ``provider:model`` names to model instances, importing providers lazily."""

from __future__ import annotations

import functools

from ddq.errors import DDQError, ErrorCode
from ddq.models.base import Embedder


def _split(name: str) -> tuple[str, str]:
    provider, sep, model = name.partition(":")
    if not sep or not provider or not model:
        raise DDQError(
            ErrorCode.CONFIG,
            f"model name {name!r} must look like 'provider:model' (e.g. local:all-MiniLM-L6-v2)",
        )
    return provider, model


@functools.lru_cache(maxsize=8)
def resolve_embedder(name: str, batch_size: int = 64) -> Embedder:
    """The embedder for ``name``; cached so a model loads once per process."""
    provider, model = _split(name)
    if provider == "local":
        from ddq.models.local import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model, batch_size=batch_size)
    if provider == "fake":
        from ddq.models.fake import FakeHashingEmbedder

        dim = 64
        base, _, size = model.partition("-")
        if size.isdigit():
            dim = int(size)
        return FakeHashingEmbedder(base, dimension=dim)
    raise DDQError(
        ErrorCode.CONFIG, f"unknown model provider {provider!r} in {name!r}; known: local, fake"
    )
