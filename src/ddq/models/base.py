"""One small abstract class per model role, with typed requests and responses.

- :class:`Embedder` turns texts into normalised vectors (``embed`` for the hot paths,
  :meth:`Embedder.run` for a typed, measured request).
- :class:`Generator` answers a chat request (drafting).
- :class:`Reranker` scores documents against a query.

Every concrete model is named ``provider:model`` and resolved by :mod:`ddq.models.registry`;
what every call gets (timeouts, retries, limits, the circuit breaker, measurements) lives in
:mod:`ddq.models.calls`, not in the providers.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

Vectors = npt.NDArray[np.float32]


class Role(StrEnum):
    EMBEDDER = "embedder"
    GENERATOR = "generator"
    RERANKER = "reranker"


class Usage(BaseModel):
    """Tokens a call consumed, as the model counted them (or approximated where it can't)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ModelInfo(BaseModel):
    """What a configured model is: served by ``GET /v1/models`` and shown by ``ddq models``."""

    model_id: str
    role: Role
    provider: str
    capabilities: list[str] = Field(default_factory=list)
    dimension: int | None = None
    max_batch_size: int | None = None


# --- embedder ------------------------------------------------------------------------------


class EmbedRequest(BaseModel):
    texts: list[str] = Field(min_length=1)


class EmbedResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_id: str
    vectors: Any  # numpy float32 array, shape (len(texts), dimension)
    usage: Usage
    latency_s: float


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

    def run(self, request: EmbedRequest) -> EmbedResponse:
        """The typed form of :meth:`embed`, with usage and latency."""
        started = time.perf_counter()
        vectors = self.embed(request.texts)
        return EmbedResponse(
            model_id=self.model_id,
            vectors=vectors,
            usage=Usage(prompt_tokens=sum(self.count_tokens(request.texts))),
            latency_s=time.perf_counter() - started,
        )

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts as the model sees them; the default approximates with word pieces."""
        return [approximate_token_count(text) for text in texts]

    def info(self) -> ModelInfo:
        provider = self.model_id.partition(":")[0]
        return ModelInfo(model_id=self.model_id, role=Role.EMBEDDER, provider=provider,
                         capabilities=["embed"], dimension=self.dimension,
                         max_batch_size=self.max_batch_size)


# --- generator -----------------------------------------------------------------------------


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class EvidenceBlock(BaseModel):
    """One numbered block of grounding: an approved library answer or retrieved evidence."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    text: str
    source: str = ""
    kind: Literal["library", "evidence"] = "evidence"


class Grounding(BaseModel):
    """What a drafting request is about, beside its rendered messages: the question and the
    blocks it may cite. LLM providers read the messages; the extractive drafter reads this."""

    question: str = Field(min_length=1)
    blocks: list[EvidenceBlock] = Field(default_factory=list)
    yes_no: bool = False


class GenerateOptions(BaseModel):
    max_tokens: int = Field(default=512, ge=1, le=32_768)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    #: When set, the model must answer with JSON matching this schema.
    json_schema: dict[str, Any] | None = None
    stop: list[str] | None = None
    seed: int | None = None


class GenerateRequest(BaseModel):
    messages: list[ChatMessage] = Field(min_length=1)
    options: GenerateOptions = Field(default_factory=GenerateOptions)
    grounding: Grounding | None = None


FinishReason = Literal["stop", "length", "content_filter", "tool_calls", "error", "other"]


class GenerateResponse(BaseModel):
    model_id: str
    text: str
    finish_reason: FinishReason = "stop"
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0


class Generator(ABC):
    """A chat model. Subclasses implement :meth:`generate`; it raises
    :class:`ddq.models.calls.ModelCallError` (retryable or not) when the call fails."""

    model_id: str
    capabilities: tuple[str, ...] = ("chat",)

    @abstractmethod
    def generate(self, request: GenerateRequest, *, timeout_s: float | None = None
                 ) -> GenerateResponse:
        """Answer ``request``; ``timeout_s`` bounds one attempt."""

    def info(self) -> ModelInfo:
        provider = self.model_id.partition(":")[0]
        return ModelInfo(model_id=self.model_id, role=Role.GENERATOR, provider=provider,
                         capabilities=list(self.capabilities))


# --- reranker ------------------------------------------------------------------------------


class RerankRequest(BaseModel):
    query: str = Field(min_length=1)
    documents: list[str] = Field(min_length=1)
    top_n: int | None = Field(default=None, ge=1)


class RerankResult(BaseModel):
    index: int
    score: float


class RerankResponse(BaseModel):
    model_id: str
    results: list[RerankResult]  # best first
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0


class Reranker(ABC):
    model_id: str

    @abstractmethod
    def rerank(self, request: RerankRequest, *, timeout_s: float | None = None
               ) -> RerankResponse:
        """Score every document against the query; results best first, cut to ``top_n``."""

    def info(self) -> ModelInfo:
        provider = self.model_id.partition(":")[0]
        return ModelInfo(model_id=self.model_id, role=Role.RERANKER, provider=provider,
                         capabilities=["rerank"])


def approximate_token_count(text: str) -> int:
    """Word-and-punctuation count, scaled to approximate WordPiece tokens."""
    import re

    return int(len(re.findall(r"\w+|[^\w\s]", text)) * 1.2) + 1
