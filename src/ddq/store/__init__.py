"""Relational state (SQLAlchemy): the source of truth every index is derived from."""

from ddq.store.db import open_engine
from ddq.store.repository import KnowledgeStore

__all__ = ["KnowledgeStore", "open_engine"]
