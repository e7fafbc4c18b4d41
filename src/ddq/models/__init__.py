"""The shared model interface: one small abstract class per role, resolved by name."""

from ddq.models.base import Embedder
from ddq.models.registry import resolve_embedder

__all__ = ["Embedder", "resolve_embedder"]
