"""The shared model interface: one small abstract class per role, resolved by name."""

from ddq.models.base import Embedder, Generator, Reranker
from ddq.models.registry import resolve_embedder, resolve_generator, resolve_reranker

__all__ = [
    "Embedder",
    "Generator",
    "Reranker",
    "resolve_embedder",
    "resolve_generator",
    "resolve_reranker",
]
