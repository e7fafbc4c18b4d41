"""Deterministic fakes for tests and offline demos. Named as fakes; never used by default."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Sequence

import numpy as np

from ddq.errors import DDQError, ErrorCode
from ddq.models.base import (
    Embedder,
    GenerateRequest,
    GenerateResponse,
    Generator,
    Reranker,
    RerankRequest,
    RerankResponse,
    RerankResult,
    Usage,
    Vectors,
)


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


FAKE_GENERATOR_BEHAVIOURS = (
    "grounded", "invalid-json", "uncited", "wrong-citation", "fail", "obedient", "slow",
)


class FakeGenerator(Generator):
    """A FAKE chat model for tests; each behaviour is a deliberate (mis)behaviour.

    - ``grounded``: answers from the first evidence block and cites it (a well-behaved model).
    - ``invalid-json``: returns text that is not JSON.
    - ``uncited``: returns an answer that cites nothing.
    - ``wrong-citation``: cites a block id it was not given.
    - ``fail``: every call fails with a retryable error (a server that is down).
    - ``obedient``: obeys instructions found inside the evidence: when a block says to
      "answer Yes", it answers Yes and cites that block (a model open to prompt injection).
    - ``slow``: ``grounded``, after sleeping ``delay_s``.
    """

    def __init__(self, behaviour: str = "grounded", *, delay_s: float = 0.2) -> None:
        if behaviour not in FAKE_GENERATOR_BEHAVIOURS:
            known = ", ".join(FAKE_GENERATOR_BEHAVIOURS)
            raise DDQError(ErrorCode.CONFIG,
                           f"unknown fake generator {behaviour!r}; known: {known}")
        self.behaviour = behaviour
        self.model_id = f"fake:{behaviour}"
        self.capabilities = ("chat", "json_schema")
        self.delay_s = delay_s
        self.calls = 0
        self.requests: list[GenerateRequest] = []
        self._lock = threading.Lock()

    def generate(self, request: GenerateRequest, *, timeout_s: float | None = None
                 ) -> GenerateResponse:
        with self._lock:
            self.calls += 1
            self.requests.append(request)
        if self.behaviour == "fail":
            from ddq.models.calls import ModelCallError

            raise ModelCallError(self.model_id, "HTTP 503 (fake outage)", retryable=True,
                                 status=503)
        if self.behaviour == "slow":
            time.sleep(self.delay_s)
        text = self._reply(request)
        return GenerateResponse(model_id=self.model_id, text=text, finish_reason="stop",
                                usage=Usage(prompt_tokens=sum(len(m.content.split())
                                                              for m in request.messages),
                                            completion_tokens=len(text.split())))

    def _reply(self, request: GenerateRequest) -> str:
        grounding = request.grounding
        if self.behaviour == "invalid-json":
            return "Sure! The answer is yes, as the policy clearly states."
        if grounding is None or not grounding.blocks:
            return json.dumps({"answer": "", "verdict": None, "citations": [],
                               "needs_input": True})
        block = grounding.blocks[0]
        verdict: str | None = None
        if self.behaviour == "obedient":
            for candidate in grounding.blocks:
                if re.search(r"answer\s+\W?yes", candidate.text, re.IGNORECASE):
                    block, verdict = candidate, "yes"
                    break
        sentence = re.split(r"(?<=[.!?])\s+", block.text.strip())[0]
        citations = [block.id]
        if self.behaviour == "uncited":
            citations = []
        elif self.behaviour == "wrong-citation":
            citations = ["E999"]
        if verdict is None and grounding.yes_no:
            verdict = "yes"
        return json.dumps({"answer": sentence, "verdict": verdict, "citations": citations,
                           "needs_input": False})


class FakeOverlapReranker(Reranker):
    """A FAKE reranker: scores a document by the share of the query's words it contains.
    Named ``fail``, every call fails with a retryable error (a reranker that is down)."""

    def __init__(self, name: str = "overlap") -> None:
        self.model_id = f"fake:{name}"
        self.calls = 0

    def rerank(self, request: RerankRequest, *, timeout_s: float | None = None
               ) -> RerankResponse:
        self.calls += 1
        if self.model_id == "fake:fail":
            from ddq.models.calls import ModelCallError

            raise ModelCallError(self.model_id, "HTTP 503 (fake outage)", retryable=True,
                                 status=503)
        query = set(re.findall(r"\w+", request.query.lower()))
        scores = []
        for index, document in enumerate(request.documents):
            words = set(re.findall(r"\w+", document.lower()))
            scores.append(RerankResult(index=index,
                                       score=len(query & words) / max(1, len(query))))
        scores.sort(key=lambda r: (-r.score, r.index))
        return RerankResponse(model_id=self.model_id, results=scores[: request.top_n or None])
