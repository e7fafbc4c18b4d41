"""The ``openai`` provider: any OpenAI-compatible server through the official SDK.

OpenAI, Azure OpenAI (set ``openai_api_version``), vLLM, Ollama and llama.cpp's server all
speak ``/v1/chat/completions`` and ``/v1/embeddings``; vLLM, llama.cpp and Jina/Cohere-style
servers also speak ``/v1/rerank``. The SDK's own retries are off: retries, timeouts, limits
and the circuit breaker are :mod:`ddq.models.calls`'s job. The API key is a secret: it is
passed to the client and never logged or shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, cast

import httpx
import numpy as np
import openai  # the registry turns a missing package into "needs the 'openai' extra"

from ddq.errors import DDQError, ErrorCode
from ddq.models.base import (
    Embedder,
    FinishReason,
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
from ddq.models.calls import RETRYABLE_STATUS, ModelCallError

_FINISH = {"stop", "length", "content_filter", "tool_calls"}
#: How a server is asked for JSON, best first: OpenAI's structured output, then the
#: ``json_object`` + schema form llama.cpp's Python server accepts, then the prompt alone.
_JSON_MODES = ("json_schema", "json_object", "prompt")


def _client(base_url: str | None, api_key: str | None, api_version: str | None) -> Any:
    # Local servers (llama.cpp, vLLM, Ollama) take any key; the SDK insists on one.
    key = api_key or "not-needed"
    if api_version:
        if not base_url:
            raise DDQError(ErrorCode.CONFIG, "Azure OpenAI needs openai_base_url (the endpoint)")
        return openai.AzureOpenAI(azure_endpoint=base_url, api_key=key,
                                  api_version=api_version, max_retries=0)
    if base_url is None and api_key is None:
        raise DDQError(ErrorCode.CONFIG, "the openai provider needs a base URL "
                                         "(DDQ_OPENAI_BASE_URL) or an API key "
                                         "(DDQ_OPENAI_API_KEY) for api.openai.com")
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)


def call_error(model_id: str, exc: Exception) -> ModelCallError:
    """Translate an SDK or HTTP exception into a retryable or final :class:`ModelCallError`."""
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return ModelCallError(model_id, "timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return ModelCallError(model_id, f"connection failed ({type(exc).__name__})",
                              retryable=True)
    status = getattr(exc, "status_code", None)
    if status is None and isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
    if isinstance(status, int):
        return ModelCallError(model_id, f"HTTP {status}: {_short(exc)}",
                              retryable=status in RETRYABLE_STATUS, status=status)
    return ModelCallError(model_id, f"{type(exc).__name__}: {_short(exc)}", retryable=False)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200]


class OpenAIGenerator(Generator):
    def __init__(self, model: str, *, base_url: str | None, api_key: str | None,
                 api_version: str | None = None) -> None:
        self.model = model
        self.model_id = f"openai:{model}"
        self.capabilities = ("chat", "json_schema")
        self.base_url = base_url
        self._client = _client(base_url, api_key, api_version)
        self._json_mode = 0  # index into _JSON_MODES; moves on when a server refuses one
        self._lock = threading.Lock()

    def generate(self, request: GenerateRequest, *, timeout_s: float | None = None
                 ) -> GenerateResponse:
        started = time.perf_counter()
        while True:
            mode = self._json_mode
            kwargs = self._arguments(request, mode)
            try:
                completion = self._client.chat.completions.create(timeout=timeout_s, **kwargs)
                break
            except openai.APIStatusError as exc:
                # A server that does not know this response_format refuses it (OpenAI and
                # vLLM say 400; llama.cpp's Python server says 500, "Input should be 'text'
                # or 'json_object'"): ask the next way, and remember it for the next call.
                if "response_format" in kwargs and mode < len(_JSON_MODES) - 1 \
                        and _refuses_format(exc):
                    with self._lock:
                        self._json_mode = max(self._json_mode, mode + 1)
                    continue
                raise call_error(self.model_id, exc) from exc
            except Exception as exc:
                raise call_error(self.model_id, exc) from exc
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content or "") if choice is not None else ""
        reason = (choice.finish_reason or "stop") if choice is not None else "error"
        usage = completion.usage
        return GenerateResponse(
            model_id=self.model_id,
            text=text,
            finish_reason=cast(FinishReason, reason if reason in _FINISH else "other"),
            usage=Usage(prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                        completion_tokens=getattr(usage, "completion_tokens", 0) or 0),
            latency_s=time.perf_counter() - started,
        )

    def _arguments(self, request: GenerateRequest, mode: int) -> dict[str, Any]:
        options = request.options
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in request.messages],
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
        }
        if options.stop:
            kwargs["stop"] = options.stop
        if options.seed is not None:
            kwargs["seed"] = options.seed
        schema = options.json_schema
        if schema is not None:
            how = _JSON_MODES[mode]
            if how == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "response", "schema": schema, "strict": True},
                }
            elif how == "json_object":
                kwargs["response_format"] = {"type": "json_object", "schema": schema}
        return kwargs


def _refuses_format(exc: Exception) -> bool:
    status = getattr(exc, "status_code", None)
    text = str(exc).lower()
    return status in (400, 422, 500) and any(
        word in text for word in ("response_format", "json_schema", "json_object"))


class OpenAIEmbedder(Embedder):
    def __init__(self, model: str, *, base_url: str | None, api_key: str | None,
                 api_version: str | None = None, batch_size: int = 64) -> None:
        self.model = model
        self.model_id = f"openai:{model}"
        self.max_batch_size = batch_size
        self._client = _client(base_url, api_key, api_version)
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:  # type: ignore[override]
        if self._dimension is None:
            self._dimension = int(self.embed_batch(["dimension probe"]).shape[1])
        return self._dimension

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        try:
            response = self._client.embeddings.create(model=self.model, input=list(texts),
                                                      encoding_format="float")
        except Exception as exc:
            raise call_error(self.model_id, exc) from exc
        rows = sorted(response.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            raise ModelCallError(self.model_id, f"returned {len(rows)} vectors for "
                                 f"{len(texts)} texts", retryable=False)
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        self._dimension = int(vectors.shape[1])
        return vectors


class OpenAIReranker(Reranker):
    """``POST {base}/rerank`` in the form vLLM, llama.cpp, Jina and Cohere share."""

    def __init__(self, model: str, *, base_url: str | None, api_key: str | None) -> None:
        if not base_url:
            raise DDQError(ErrorCode.CONFIG, "the openai reranker needs a base URL "
                                             "(DDQ_RERANKER_BASE_URL or DDQ_OPENAI_BASE_URL)")
        self.model = model
        self.model_id = f"openai:{model}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers)

    def rerank(self, request: RerankRequest, *, timeout_s: float | None = None
               ) -> RerankResponse:
        started = time.perf_counter()
        top_n = request.top_n or len(request.documents)
        body = {"model": self.model, "query": request.query, "documents": request.documents,
                "top_n": top_n}
        try:
            response = self._http.post("rerank", json=body, timeout=timeout_s)
            response.raise_for_status()
            payload = response.json()
        except Exception as exc:
            raise call_error(self.model_id, exc) from exc
        try:
            results = [RerankResult(index=int(r["index"]),
                                    score=float(r.get("relevance_score", r.get("score"))))
                       for r in payload["results"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelCallError(self.model_id, "malformed rerank response",
                                 retryable=False) from exc
        results.sort(key=lambda r: -r.score)
        usage = payload.get("usage") or {}
        return RerankResponse(model_id=self.model_id, results=results[:top_n],
                              usage=Usage(prompt_tokens=int(usage.get("prompt_tokens", 0)
                                                            or usage.get("total_tokens", 0))),
                              latency_s=time.perf_counter() - started)
