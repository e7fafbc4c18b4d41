"""Deterministic fakes for tests and offline demos. Named as fakes; never used by default."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence

import numpy as np

from ddq.models.base import Embedder, Vectors


class FakeHashingEmbedder(Embedder):
    """A FAKE embedder: hashes word unigrams and bigrams into a fixed-size vector.

    Texts that share words get similar vectors, so retrieval tests behave sensibly, and the
    same text always gets the same vector. It has no semantic knowledge at all.
    """

    def __init__(self, name: str = "hashing", dimension: int = 64) -> None:
        self.model_id = f"fake:{name}-{dimension}"
        self.dimension = dimension
        self.max_batch_size = 256
        self.calls = 0
        self.texts_embedded = 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            for feature in features:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dimension
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, bucket] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out
