"""Derived indexes that repair themselves (design decision 11): the keyword index is compared
with the store before it is used and rebuilt from the store when it is behind.

What the keyword index reflects is the set of chunk ids it holds; what the store holds is
identified by :meth:`KnowledgeStore.chunk_state` (count and highest id, exact because ids are
never reused and chunks never change in place). The store commits a document's chunks and
the keyword index is rebuilt after: a process killed in between, a rebuild that failed (a
full or read-only disk), a keyword folder deleted by hand or another process's ingestion all
leave the two different, and the next check finds it.

The vector indexes are written inside the store's transaction, but a write is only sure to
survive once flushed: a document is committed with ``indexed`` false and marked once its
vectors are flushed. A process killed in between (or a flush that failed: a read-only or
full disk) leaves documents unmarked, and :class:`VectorRepair` writes their vectors again
(an upsert by chunk id, so whatever part survived is replaced, not doubled) from the
embedding cache before the next ingest or the service's first request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ddq.index.keyword import BM25KeywordIndex
from ddq.store.repository import KnowledgeStore

if TYPE_CHECKING:
    from ddq.index.vector import MilvusVectorIndex

log = logging.getLogger("ddq.index")


@dataclass(frozen=True, slots=True)
class Repair:
    """One derived index found behind the store and rebuilt."""

    index: str
    had: int  # entries it held
    expected: int  # entries the store says it should hold
    done: str = "rebuilt from the store"
    found: str = "was behind the store"

    def describe(self) -> str:
        return f"{self.index}: {self.found} ({self.had} of {self.expected} chunks); {self.done}"


class KeywordRepair:
    """Keeps one workspace's keyword index at the store's state."""

    def __init__(self, store: KnowledgeStore, index: BM25KeywordIndex, workspace: str,
                 repairs: list[Repair]) -> None:
        self.store = store
        self.index = index
        self.workspace = workspace
        self.repairs = repairs  # shared by every workspace of a knowledge base
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def rebuild(self) -> int:
        """Rebuild from the store (after a change this process made)."""
        with self._lock:
            count = self.index.rebuild(self._pairs())
            self._checked = time.monotonic()
            return count

    def ensure(self, *, max_age_s: float = 0.0) -> Repair | None:
        """Compare with the store (unless it was compared within ``max_age_s``) and rebuild
        when behind. A newer index another process saved is loaded, not rebuilt."""
        if time.monotonic() - self._checked < max_age_s:
            return None
        with self._lock:
            wanted = self.store.chunk_state(self.workspace)
            if self.index.state != wanted:
                self.index.reload()  # another process may have saved the current one
            if self.index.state == wanted:
                self._checked = time.monotonic()
                return None
            had = self.index.size
            try:
                self.index.rebuild(self._pairs())
            finally:
                # Also after a failed rebuild (a full disk): the next check waits its turn
                # instead of every search trying again.
                self._checked = time.monotonic()
        repair = Repair(f"bm25:{self.workspace}", had=had, expected=wanted[0])
        self.repairs.append(repair)
        log.warning("keyword index repaired", extra={"workspace": self.workspace,
                                                     "had": had, "expected": wanted[0]})
        return repair

    def _pairs(self) -> Iterable[tuple[int, str]]:
        for batch in self.store.iter_chunks(self.workspace):
            for chunk in batch:
                yield chunk.id, chunk.keyword_text


class VectorRepair:
    """Writes the vectors of one workspace's documents that were committed but never
    confirmed in the vector indexes. ``vectors`` gives the vectors of texts (the embedding
    cache first, the model for the rest)."""

    def __init__(self, store: KnowledgeStore, workspace: str, *,
                 chunk_index: Callable[[], MilvusVectorIndex],
                 question_index: Callable[[], MilvusVectorIndex],
                 vectors: Callable[[Sequence[str]], np.ndarray],
                 repairs: list[Repair]) -> None:
        self.store = store
        self.workspace = workspace
        self._chunk_index = chunk_index
        self._question_index = question_index
        self._vectors = vectors
        self.repairs = repairs
        self._lock = threading.Lock()

    def ensure(self) -> Repair | None:
        """One query when nothing is pending; else write the pending documents' vectors,
        flush, and mark them. Raises the index's or store's error when it cannot."""
        with self._lock:
            pending = self.store.unindexed_documents(self.workspace)
            if not pending:
                return None
            chunks = self._chunk_index()
            questions = self._question_index()
            written = 0
            for batch in self.store.iter_chunks(self.workspace, documents=pending):
                chunks.insert(workspace=self.workspace, ids=[c.id for c in batch],
                              document_ids=[c.document_id for c in batch],
                              vectors=self._vectors([c.embedding_text for c in batch]))
                library = [c for c in batch if c.question]
                if library:
                    questions.insert(workspace=self.workspace, ids=[c.id for c in library],
                                     document_ids=[c.document_id for c in library],
                                     vectors=self._vectors([c.question or ""
                                                            for c in library]))
                written += len(batch)
            chunks.flush()
            questions.flush()
            self.store.mark_indexed(pending)
        total = self.store.counts(self.workspace).chunks
        repair = Repair(f"vectors:{self.workspace}", had=total - written, expected=total,
                        found="was not confirmed complete",
                        done=f"the vectors of {len(pending)} documents written again from "
                             f"the store")
        self.repairs.append(repair)
        log.warning("vector index repaired", extra={"workspace": self.workspace,
                                                    "documents": len(pending),
                                                    "chunks": written})
        return repair
