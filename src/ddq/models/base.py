"""The embedder role: one abstract method, conveniences built on it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension.

    Subclasses implement :meth:`embed_batch`; everything else is built on it.
    """

    #: ``provider:model`` name, stable across processes (it names the Milvus collection).
    model_id: str
    #: Vector dimension.
    dimension: int
    #: Largest number of texts a single :meth:`embed_batch` call should receive.
    max_batch_size: int = 64

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` into an array of shape ``(len(texts), dimension)``, normalised."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed any number of texts, in batches of :attr:`max_batch_size`."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            self.embed_batch(texts[start : start + self.max_batch_size])
            for start in range(0, len(texts), self.max_batch_size)
        ]
        return np.vstack(parts).astype(np.float32, copy=False)

    def embed_one(self, text: str) -> Vectors:
        return self.embed([text])[0]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts as the model sees them; the default approximates with word pieces."""
        return [approximate_token_count(text) for text in texts]


def approximate_token_count(text: str) -> int:
    """Word-and-punctuation count, scaled to approximate WordPiece tokens."""
    import re

    return int(len(re.findall(r"\w+|[^\w\s]", text)) * 1.2) + 1
