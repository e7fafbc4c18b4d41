"""Derived indexes that repair themselves (design decision 11): the keyword index is compared
with the store before it is used and rebuilt from the store when it is behind.

What the keyword index reflects is the set of chunk ids it holds; what the store holds is
identified by :meth:`KnowledgeStore.chunk_state` (count and highest id, exact because ids are
never reused and chunks never change in place). The store commits a document's chunks and
the keyword index is rebuilt after: a process killed in between, a rebuild that failed (a
full or read-only disk), a keyword folder deleted by hand or another process's ingestion all
leave the two different, and the next check finds it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ddq.index.keyword import BM25KeywordIndex
from ddq.store.repository import KnowledgeStore

log = logging.getLogger("ddq.index")


@dataclass(frozen=True, slots=True)
class Repair:
    """One derived index found behind the store and rebuilt."""

    index: str
    had: int  # entries it held
    expected: int  # entries the store says it should hold

    def describe(self) -> str:
        return (f"{self.index}: was behind the store ({self.had} of {self.expected} chunks); "
                f"rebuilt from the store")


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
