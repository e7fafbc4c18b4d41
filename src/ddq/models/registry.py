"""Resolve ``provider:model`` names to model instances, importing providers lazily.

``auto`` is the fastest of the shipped model's runtimes on this CPU (:mod:`ddq.models.select`).
Providers: ``local`` (sentence-transformers, shipped weights), ``onnx`` (the same model with
ONNX Runtime, int8), ``openvino`` (the same model's ONNX export with OpenVINO: bf16 where the
CPU has AMX, else f32), ``openai`` (any OpenAI-compatible server), ``extractive`` (the drafter
that needs no LLM) and ``fake`` (test fakes). Every model comes back wrapped in the call
policy of :mod:`ddq.models.calls`, so limits and measurements apply whatever the provider.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ddq.errors import DDQError, ErrorCode
from ddq.models.base import Embedder, Generator, Reranker
from ddq.models.calls import CallPolicy, GuardedEmbedder, GuardedGenerator, GuardedReranker

if TYPE_CHECKING:
    from ddq.config import Settings

#: (base URL, API key, Azure API version) of an OpenAI-compatible server.
Endpoint = tuple[str | None, str | None, str | None]

PROVIDERS = {
    "embedder": ("local", "onnx", "openvino", "openai", "fake"),
    "generator": ("extractive", "openai", "fake"),
    "reranker": ("openai", "fake"),
}
EXTRAS = {"local": "local", "onnx": "onnx", "openvino": "openvino", "openai": "openai"}


def split_name(name: str) -> tuple[str, str]:
    provider, sep, model = name.partition(":")
    if not sep or not provider or not model:
        raise DDQError(
            ErrorCode.CONFIG,
            f"model name {name!r} must look like 'provider:model' (e.g. local:all-MiniLM-L6-v2)",
        )
    return provider, model


def _unknown(role: str, provider: str, name: str) -> DDQError:
    known = ", ".join(PROVIDERS[role])
    return DDQError(ErrorCode.CONFIG,
                    f"unknown {role} provider {provider!r} in {name!r}; known: {known}")


def _missing_extra(provider: str, exc: ImportError) -> DDQError:
    extra = EXTRAS.get(provider, provider)
    return DDQError(ErrorCode.CONFIG, f"the {provider} provider needs the '{extra}' extra "
                                      f"(missing {exc.name or exc}): pip install 'ddq[{extra}]'")


@functools.lru_cache(maxsize=16)
def resolve_embedder(name: str, batch_size: int = 64, *, home: Path | None = None,
                     endpoint: Endpoint | None = None,
                     policy: CallPolicy | None = None,
                     model_dir: Path | None = None,
                     openvino_precision: str = "auto") -> Embedder:
    """The embedder for ``name``; cached so a model loads once per process. Local model
    files are kept in ``model_dir`` (default ``home/models``)."""
    provider, model = split_name(name)
    policy = policy or CallPolicy()
    inner: Embedder
    try:
        if provider == "local":
            from ddq.models.local import SentenceTransformerEmbedder

            inner = SentenceTransformerEmbedder(model, batch_size=batch_size)
        elif provider == "onnx":
            from ddq.models.onnx import OnnxEmbedder, parse_onnx_name

            shipped, precision = parse_onnx_name(model)
            inner = OnnxEmbedder(shipped,
                                 cache_dir=model_dir or (home or Path(".ddq")) / "models",
                                 batch_size=batch_size, precision=precision)
        elif provider == "openvino":
            from ddq.models.openvino import OpenVinoEmbedder, parse_openvino_name

            inner = OpenVinoEmbedder(parse_openvino_name(model),
                                     cache_dir=model_dir or (home or Path(".ddq")) / "models",
                                     batch_size=batch_size, precision_hint=openvino_precision)
        elif provider == "openai":
            from ddq.models.openai_compat import OpenAIEmbedder

            base, key, version = endpoint or (None, None, None)
            inner = OpenAIEmbedder(model, base_url=base, api_key=key, api_version=version,
                                   batch_size=batch_size)
        elif provider == "fake":
            from ddq.models.fake import FakeHashingEmbedder

            dim = 64
            base_name, _, size = model.partition("-")
            if size.isdigit():
                dim = int(size)
            inner = FakeHashingEmbedder(base_name, dimension=dim)
        else:
            raise _unknown("embedder", provider, name)
    except ImportError as exc:
        raise _missing_extra(provider, exc) from exc
    return GuardedEmbedder(inner, policy)


@functools.lru_cache(maxsize=16)
def _remote_generator(name: str, endpoint: Endpoint | None, policy: CallPolicy) -> Generator:
    provider, model = split_name(name)
    inner: Generator
    try:
        if provider == "openai":
            from ddq.models.openai_compat import OpenAIGenerator

            base, key, version = endpoint or (None, None, None)
            inner = OpenAIGenerator(model, base_url=base, api_key=key, api_version=version)
        elif provider == "fake":
            from ddq.models.fake import FakeGenerator

            inner = FakeGenerator(model)
        else:
            raise _unknown("generator", provider, name)
    except ImportError as exc:
        raise _missing_extra(provider, exc) from exc
    return GuardedGenerator(inner, policy)


def resolve_generator(name: str, *, endpoint: Endpoint | None = None,
                      policy: CallPolicy | None = None,
                      extractive: Callable[[], Generator] | None = None) -> Generator:
    """The generator for ``name``. ``extractive`` builds the drafter that needs no LLM (it
    reads the knowledge base, so its owner supplies it)."""
    if name == "extractive" or name.startswith("extractive:"):
        if extractive is None:
            raise DDQError(ErrorCode.CONFIG, "the extractive generator needs a knowledge base")
        return extractive()
    return _remote_generator(name, endpoint, policy or CallPolicy())


@functools.lru_cache(maxsize=8)
def resolve_reranker(name: str, *, endpoint: Endpoint | None = None,
                     policy: CallPolicy | None = None) -> Reranker:
    provider, model = split_name(name)
    inner: Reranker
    try:
        if provider == "openai":
            from ddq.models.openai_compat import OpenAIReranker

            base, key, _version = endpoint or (None, None, None)
            inner = OpenAIReranker(model, base_url=base, api_key=key)
        elif provider == "fake":
            from ddq.models.fake import FakeOverlapReranker

            inner = FakeOverlapReranker(model)
        else:
            raise _unknown("reranker", provider, name)
    except ImportError as exc:
        raise _missing_extra(provider, exc) from exc
    return GuardedReranker(inner, policy or CallPolicy())


def call_policy(settings: Settings) -> CallPolicy:
    return CallPolicy(timeout_s=settings.model_timeout_s, retries=settings.model_retries,
                      backoff_s=settings.model_backoff_s,
                      concurrency=settings.model_concurrency,
                      breaker_failures=settings.breaker_failures,
                      breaker_reset_s=settings.breaker_reset_s)


def embedder_name(settings: Settings) -> str:
    """``settings.embedder``, with ``auto`` resolved for this CPU (:mod:`ddq.models.select`)."""
    if settings.embedder != "auto":
        return settings.embedder
    from ddq.models.select import auto_embedder

    return auto_embedder(settings.home).embedder


def embedder_for(settings: Settings) -> Embedder:
    from ddq.models.select import remember_embedder

    name = embedder_name(settings)
    remember_embedder(settings.home, name)  # what `auto` keeps for this knowledge base
    return resolve_embedder(name, settings.embedding_batch_size,
                            home=settings.home.resolve(), endpoint=settings.endpoint("embedder"),
                            policy=call_policy(settings), model_dir=settings.resolved_model_dir,
                            openvino_precision=settings.openvino_precision)


def generator_for(settings: Settings,
                  extractive: Callable[[], Generator] | None = None) -> Generator:
    return resolve_generator(settings.generator, endpoint=settings.endpoint("generator"),
                             policy=call_policy(settings), extractive=extractive)


def reranker_for(settings: Settings) -> Reranker | None:
    if not settings.reranker:
        return None
    return resolve_reranker(settings.reranker, endpoint=settings.endpoint("reranker"),
                            policy=call_policy(settings))
