"""The model interface over HTTP: ``/v1/models``, ``/v1/embeddings`` (the OpenAI format, so
existing clients work), ``/v1/rerank`` and ``/v1/generate``.

Embeddings go through the persistent cache, so a text the service has embedded before costs
no model call. Request texts are never logged.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ddq.api.auth import Caller, require, workspace_kb
from ddq.api.errors import ErrorBody
from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase
from ddq.models.base import (
    Embedder,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
    RerankRequest,
    RerankResponse,
)
from ddq.models.cache import CachedEmbedder
from ddq.store.keys import Role

Viewer = Depends(require(Role.VIEWER))

MAX_INPUTS = 2048
MAX_INPUT_CHARS = 100_000


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    owned_by: str
    role: str
    capabilities: list[str]
    dimension: int | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class EmbeddingsRequest(BaseModel):
    input: str | list[str] | list[int] | list[list[int]]
    model: str
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingsUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingsUsage


class RerankBody(RerankRequest):
    model: str | None = None


class GenerateBody(GenerateRequest):
    model: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422, 500, 503)
}


def _matches(asked: str, model_id: str) -> bool:
    """A request may name the model as configured (``local:all-MiniLM-L6-v2``) or bare."""
    return asked in (model_id, model_id.partition(":")[2])


def _card(info: ModelInfo) -> ModelCard:
    return ModelCard(id=info.model_id, owned_by=info.provider, role=info.role.value,
                     capabilities=info.capabilities, dimension=info.dimension)


def _embedder_for(kb: KnowledgeBase, asked: str) -> Embedder:
    embedder = kb.embedder
    if not _matches(asked, embedder.model_id):
        raise DDQError(ErrorCode.NOT_FOUND, f"model {asked!r} is not served here; the "
                                            f"embedder is {embedder.model_id!r}")
    return embedder


def router() -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["models"], responses=ERRORS)

    @api.get("/models", response_model=ModelList, summary="The configured models")
    def list_models(request: Request, caller: Caller = Viewer) -> ModelList:
        kb = workspace_kb(request, caller)
        cards = [ModelCard(id=kb.settings.embedder, owned_by=kb.settings.embedder.split(":")[0],
                           role="embedder", capabilities=["embed"]),
                 _card(kb.generator.info())]
        # The embedder's dimension is only known once it is loaded; do not load it here.
        if kb.reranker is not None:
            cards.append(_card(kb.reranker.info()))
        return ModelList(data=cards)

    @api.post("/embeddings", response_model=EmbeddingsResponse,
              summary="Embed texts (the OpenAI embeddings format)")
    async def embeddings(body: EmbeddingsRequest, request: Request,
                         caller: Caller = Viewer) -> EmbeddingsResponse:
        kb = workspace_kb(request, caller)
        texts = _texts(body.input)
        embedder = _embedder_for(kb, body.model)
        cached = CachedEmbedder(embedder, kb.store)
        result = await run_in_threadpool(cached.lookup, texts)
        if body.dimensions is not None and body.dimensions != embedder.dimension:
            raise DDQError(ErrorCode.INVALID_INPUT,
                           f"{embedder.model_id} has {embedder.dimension} dimensions, "
                           f"not {body.dimensions}")
        items = [EmbeddingItem(index=i, embedding=_encode(v, body.encoding_format))
                 for i, v in enumerate(result.vectors)]
        tokens = sum(embedder.count_tokens(texts))
        return EmbeddingsResponse(data=items, model=embedder.model_id,
                                  usage=EmbeddingsUsage(prompt_tokens=tokens,
                                                        total_tokens=tokens))

    @api.post("/rerank", response_model=RerankResponse, summary="Score documents for a query")
    async def rerank(body: RerankBody, request: Request,
                     caller: Caller = Viewer) -> RerankResponse:
        reranker = workspace_kb(request, caller).reranker
        if reranker is None:
            raise DDQError(ErrorCode.NOT_FOUND, "no reranker is configured (DDQ_RERANKER)")
        if body.model and not _matches(body.model, reranker.model_id):
            raise DDQError(ErrorCode.NOT_FOUND, f"model {body.model!r} is not served here")
        plain = RerankRequest(query=body.query, documents=body.documents, top_n=body.top_n)
        return await run_in_threadpool(reranker.rerank, plain)

    @api.post("/generate", response_model=GenerateResponse,
              summary="Chat with the drafting model (or draft from a grounding)")
    async def generate(body: GenerateBody, request: Request,
                       caller: Caller = Viewer) -> GenerateResponse:
        generator = workspace_kb(request, caller).generator
        if body.model and not _matches(body.model, generator.model_id):
            raise DDQError(ErrorCode.NOT_FOUND, f"model {body.model!r} is not served here; "
                                                f"the generator is {generator.model_id!r}")
        plain = GenerateRequest(messages=body.messages, options=body.options,
                                grounding=body.grounding)
        return await run_in_threadpool(generator.generate, plain)

    return api


def _texts(given: str | list[str] | list[int] | list[list[int]]) -> list[str]:
    if isinstance(given, str):
        given = [given]
    if not given:
        raise DDQError(ErrorCode.INVALID_INPUT, "input is empty")
    if not all(isinstance(t, str) for t in given):
        raise DDQError(ErrorCode.INVALID_INPUT,
                       "input must be text; token arrays are not accepted")
    texts = [str(t) for t in given]
    if len(texts) > MAX_INPUTS:
        raise DDQError(ErrorCode.INVALID_INPUT, f"at most {MAX_INPUTS} inputs per request")
    if any(len(t) > MAX_INPUT_CHARS for t in texts):
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"an input is longer than {MAX_INPUT_CHARS} characters")
    if any(not t.strip() for t in texts):
        raise DDQError(ErrorCode.INVALID_INPUT, "an input is empty")
    return texts


def _encode(vector: np.ndarray, how: str) -> list[float] | str:
    if how == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return [float(x) for x in vector]
