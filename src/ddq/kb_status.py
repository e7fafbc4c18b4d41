"""What ``ddq status`` reports about a knowledge base: counts, each index against the store,
and what opening it repaired."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ddq.errors import DDQError
from ddq.index.repair import Repair
from ddq.trust.expiry import status_evidence

if TYPE_CHECKING:
    from ddq.kb import KnowledgeBase

log = logging.getLogger("ddq.kb")


@dataclass(frozen=True, slots=True)
class IndexHealth:
    name: str
    entries: int
    expected: int

    @property
    def in_sync(self) -> bool:
        return self.entries == self.expected


@dataclass(frozen=True, slots=True)
class Status:
    workspace: str
    documents: int
    chunks: int
    library_entries: int
    cached_embeddings: int
    embedding_model: str
    database: str
    milvus: str
    indexes: list[IndexHealth]
    repairs: list[Repair] = field(default_factory=list)  # what opening it repaired
    #: Each document's validity and its state today (ddq stale lists what needs action).
    evidence: list[dict[str, object]] = field(default_factory=list)


def knowledge_status(kb: KnowledgeBase) -> Status:
    """Counts and index health (does not load the model unless a repair needs a vector the
    cache lacks). The vectors and the keyword index are checked against the store first, so
    a repair they needed is made, and reported, here."""
    try:
        kb.ensure_vector_index()
    except (OSError, DDQError) as exc:  # reported as out of sync below
        log.warning("vector index could not be repaired: %s", exc)
    counts = kb.store.counts(kb.workspace)
    workspaces = kb.store.workspaces()
    indexes = [
        IndexHealth(kb.chunk_index.name, kb.chunk_index.count(),
                    sum(kb.store.counts(w).chunks for w in workspaces)),
        IndexHealth(kb.question_index.name, kb.question_index.count(),
                    sum(kb.store.library_entry_count(w) for w in workspaces)),
        IndexHealth(f"bm25:{kb.workspace}", kb.keyword_index.size, counts.chunks),
    ]
    return Status(
        workspace=kb.workspace,
        documents=counts.documents,
        chunks=counts.chunks,
        library_entries=counts.library_entries,
        cached_embeddings=counts.cached_embeddings,
        embedding_model=kb.settings.embedder,
        database=kb.store.engine.url.render_as_string(hide_password=True),
        milvus=kb.settings.resolved_milvus_uri,
        indexes=indexes,
        repairs=list(kb.repairs),
        evidence=status_evidence(kb.store.engine, kb.workspace),
    )
