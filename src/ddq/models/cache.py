"""The embedding cache, keyed by model and content hash, persisted in the relational store.

Known text is never embedded twice by the same model: re-ingesting, rebuilding the index or
answering another questionnaire over the same knowledge base takes its vectors from here.
Hits and misses are counted in the model's measurements (``cache_hits``, ``items``).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ddq.errors import DDQError
from ddq.models.base import Embedder, Role, Vectors
from ddq.models.calls import stats_for


class VectorCache(Protocol):
    """Persistent vectors by (model id, sha256 of the text): the store's embedding cache."""

    def cached_vectors(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def cache_vectors(self, model_id: str, items: dict[str, np.ndarray]) -> None: ...


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CachedVectors:
    vectors: Vectors
    hashes: list[str]
    embedded: int  # distinct texts the model embedded
    cached: int  # texts served from the cache


class CachedEmbedder(Embedder):
    """``embedder`` behind the persistent cache: only texts the cache lacks reach the model,
    each distinct text once."""

    def __init__(self, embedder: Embedder, cache: VectorCache) -> None:
        self.inner = embedder
        self.cache = cache
        self.model_id = embedder.model_id
        self.max_batch_size = 1 << 30  # the inner embedder batches what reaches it

    @property
    def dimension(self) -> int:  # type: ignore[override]
        return self.inner.dimension

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        return self.lookup(texts).vectors

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def lookup(self, texts: Sequence[str]) -> CachedVectors:
        hashes = [text_hash(t) for t in texts]
        model_id = self.inner.model_id
        found = self.cache.cached_vectors(model_id, hashes) if hashes else {}
        missing: dict[str, str] = {}
        for text, digest in zip(texts, hashes, strict=True):
            if digest not in found:
                missing.setdefault(digest, text)
        hits = len(texts) - len(missing)  # a repeat of a missing text costs no call either
        if hits:
            stats = stats_for(model_id, Role.EMBEDDER)
            stats.cache_hits += hits
        if missing:
            fresh = self.inner.embed(list(missing.values()))
            new = dict(zip(missing.keys(), fresh, strict=True))
            # A cache that cannot be written costs speed later, not this result.
            with contextlib.suppress(DDQError):
                self.cache.cache_vectors(model_id, new)
            found.update(new)
        if not hashes:
            return CachedVectors(np.zeros((0, self.inner.dimension), dtype=np.float32), [], 0, 0)
        vectors = np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False)
        return CachedVectors(vectors, hashes, len(missing), hits)
