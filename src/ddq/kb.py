"""The knowledge base: one object that wires the store, the model and the indexes together.

Everything is opened lazily: asking for the status does not load the model, and ingesting
unchanged files opens neither the model nor Milvus.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from ddq import tracing
from ddq.answer.extractive import AnswerSettings, ExtractiveAnswerer
from ddq.config import Settings
from ddq.domain import Answer, RetrievalResult
from ddq.errors import DDQError, ErrorCode
from ddq.index.keyword import BM25KeywordIndex
from ddq.index.milvus_keyword import keyword_index_for
from ddq.index.repair import KeywordRepair, Repair, VectorRepair
from ddq.index.vector import MilvusVectorIndex, collection_name
from ddq.ingest.library_loaders import LibraryColumns
from ddq.ingest.pipeline import (
    FileResult,
    IngestItem,
    IngestPipeline,
    IngestReport,
    Progress,
    discover_files,
    file_items,
)
from ddq.kb_status import Status, knowledge_status
from ddq.metrics import INGEST_CHUNKS, INGEST_DOCUMENTS, INGEST_STAGE, observe_drafts, timed
from ddq.models.base import Embedder, Generator, Reranker
from ddq.models.cache import CachedEmbedder
from ddq.models.registry import embedder_for, generator_for, reranker_for
from ddq.retrieve.hybrid import HybridRetriever, RetrievalSettings
from ddq.store.db import open_engine
from ddq.store.repository import KnowledgeStore
from ddq.trust.guard import draft_checked

log = logging.getLogger("ddq.kb")

#: How often retrieval re-checks the keyword index against the store (a count and a max):
#: every second, so replicas with per-process bm25s copies agree within ~2 s of a change on
#: a small knowledge base (each rebuilds its copy: ~1 s at 10k chunks, ~10 s at 100k; past
#: that, the shared Milvus keyword index, DDQ_KEYWORD_INDEX=milvus).
KEYWORD_CHECK_S = 1.0


class Drafter(Protocol):
    def answer_many(self, retrievals: Sequence[RetrievalResult]) -> list[Answer]: ...


class KnowledgeBase:
    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.workspace = settings.workspace
        settings.home.mkdir(parents=True, exist_ok=True)
        self.store = KnowledgeStore(open_engine(
            settings.resolved_database_url,
            statement_timeout_s=settings.database_statement_timeout_s))
        self._embedder = embedder
        self._milvus: Any = None
        self._parent: KnowledgeBase | None = None
        self._views: dict[str, KnowledgeBase] = {}
        #: Derived indexes this process found behind the store and rebuilt.
        self.repairs: list[Repair] = []

    def scoped(self, workspace: str) -> KnowledgeBase:
        """The same knowledge base seen from another workspace: it shares the database, the
        Milvus connection and the models (one process serves every workspace), and has its
        own retriever, keyword index and drafter. Closing the owner closes them all."""
        if self._parent is not None:
            return self._parent.scoped(workspace)
        if workspace == self.workspace:
            return self
        if workspace not in self._views:
            view = KnowledgeBase.__new__(KnowledgeBase)
            view.settings = self.settings.model_copy(update={"workspace": workspace})
            view.workspace = workspace
            view.store = self.store
            view._embedder = self._embedder
            view._milvus = None
            view._parent = self
            view._views = {}
            view.repairs = self.repairs
            self._views[workspace] = view
        return self._views[workspace]

    # --- lazily opened parts ----------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = embedder_for(self.settings)
        return self._embedder

    def _client(self) -> Any:
        if self._parent is not None:
            return self._parent._client()
        if self._milvus is None:
            self._milvus = MilvusVectorIndex.connect(
                self.settings.resolved_milvus_uri, self.settings.milvus_token
            )
        return self._milvus

    @functools.cached_property
    def chunk_index(self) -> MilvusVectorIndex:
        e = self.embedder
        return MilvusVectorIndex(self._client(), collection_name(e.model_id, e.dimension,
                                                                 "chunks"), e.dimension,
                                 self.settings.vector_index)

    def _chunk_index_for_model(self) -> MilvusVectorIndex:
        """The chunk index, refusing a knowledge base that was indexed with another embedding
        model: its vectors are in that model's collection, and searching or adding to this
        model's (missing) one would quietly drop dense retrieval."""
        index = self.chunk_index
        if index.exists():
            return index
        client = self._client()
        others = [name for name in client.list_collections()
                  if name.startswith("ddq_chunks_") and name != index.name
                  and int(client.get_collection_stats(name).get("row_count", 0)) > 0]
        if others and self._all_chunks() > 0:
            raise DDQError(
                ErrorCode.INDEX_ERROR,
                f"this knowledge base was indexed with another embedding model (collection "
                f"{', '.join(sorted(others))}), not with {self.settings.embedder}: set "
                f"DDQ_EMBEDDER back to that model, or run `ddq reindex` to embed it again "
                f"with {self.settings.embedder}")
        return index

    @functools.cached_property
    def question_index(self) -> MilvusVectorIndex:
        e = self.embedder
        return MilvusVectorIndex(self._client(), collection_name(e.model_id, e.dimension,
                                                                 "questions"), e.dimension,
                                 self.settings.vector_index)

    @functools.cached_property
    def _keyword(self) -> KeywordRepair:
        s = self.settings
        index = keyword_index_for(s.keyword_index, s.resolved_milvus_uri, self._client,
                                  self.workspace, s.keyword_index_dir / self.workspace)
        return KeywordRepair(self.store, index, self.workspace, self.repairs)

    @functools.cached_property
    def keyword_index(self) -> BM25KeywordIndex:
        """The workspace's keyword index, checked against the store (and rebuilt when it is
        behind) on first use."""
        self._ensure_keyword_quietly(0.0)
        return self._keyword.index

    def _ensure_keyword_quietly(self, max_age_s: float) -> None:
        try:
            self._keyword.ensure(max_age_s=max_age_s)
        except (OSError, DDQError) as exc:
            # Searching the index it has beats not answering; the failure is logged, and
            # the next check (or `ddq ingest`) tries again.
            log.warning("keyword index could not be repaired: %s", exc)

    @functools.cached_property
    def _vectors(self) -> VectorRepair:
        cache = CachedEmbedder(_LazyEmbedder(self), self.store)
        return VectorRepair(self.store, self.workspace,
                            chunk_index=self._chunk_index_for_model,
                            question_index=lambda: self.question_index,
                            vectors=lambda texts: cache.lookup(texts).vectors,
                            repairs=self.repairs)

    def ensure_vector_index(self) -> Repair | None:
        """Write the vectors of documents committed but never confirmed in the vector
        indexes (a crash between the commit and the flush); one query when there are none."""
        return self._vectors.ensure()

    def ensure_keyword_index(self, *, max_age_s: float = 0.0) -> Repair | None:
        """Check the keyword index against the store now (or when last checked more than
        ``max_age_s`` ago) and rebuild it when it is behind."""
        return self._keyword.ensure(max_age_s=max_age_s)

    @functools.cached_property
    def retriever(self) -> HybridRetriever:
        s = self.settings
        return HybridRetriever(
            store=self.store,
            embedder=self.embedder,
            chunk_index=self._chunk_index_for_model(),
            question_index=self.question_index,
            keyword_index=self.keyword_index,
            workspace=self.workspace,
            settings=RetrievalSettings(
                top_k=s.retrieval_top_k, candidate_k=s.candidate_k, rrf_k=s.rrf_k,
                dense_weight=s.dense_weight, keyword_weight=s.keyword_weight,
                rerank_k=s.rerank_candidates,
            ),
            reranker=self.reranker,
        )

    @functools.cached_property
    def answerer(self) -> ExtractiveAnswerer:
        s = self.settings
        return ExtractiveAnswerer(
            embedder=self.embedder,
            keyword_index=self.keyword_index,
            settings=AnswerSettings(library_match_threshold=s.library_match_threshold,
                                    abstain_threshold=s.abstain_threshold),
            vector_cache=self.store,
        )

    @functools.cached_property
    def generator(self) -> Generator:
        """The configured drafting model (``DDQ_GENERATOR``), with its call policy."""
        from ddq.answer.grounded import ExtractiveGenerator

        return generator_for(self.settings, lambda: ExtractiveGenerator(self.answerer))

    @functools.cached_property
    def reranker(self) -> Reranker | None:
        return reranker_for(self.settings)

    @functools.cached_property
    def drafter(self) -> Drafter:
        """What drafts answers: the extractive answerer, or an LLM grounded in the evidence
        with the extractive answerer as its fallback."""
        from ddq.answer.grounded import ExtractiveGenerator, GroundedDrafter

        generator = self.generator
        if isinstance(generator, ExtractiveGenerator):
            return self.answerer
        s = self.settings
        return GroundedDrafter(generator, self.answerer, concurrency=s.model_concurrency,
                               max_tokens=s.generator_max_tokens,
                               temperature=s.generator_temperature)

    def close(self) -> None:
        if self._parent is not None:
            return  # a view; its owner closes the shared connections
        for view in self._views.values():
            view.__dict__.pop("retriever", None)
        self._views.clear()
        if self._milvus is not None:
            MilvusVectorIndex.disconnect(self._milvus, self.settings.resolved_milvus_uri)
            self._milvus = None
        self.store.engine.dispose()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the operations -----------------------------------------------------------------

    def pipeline(self, progress: Progress | None = None, actor: str = "cli") -> IngestPipeline:
        return IngestPipeline(
            actor=actor,
            store=self.store,
            embedder=_LazyEmbedder(self),
            chunk_index=self._chunk_index_for_model,
            question_index=lambda: self.question_index,
            workspace=self.workspace,
            max_tokens=self.settings.chunk_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
            progress=progress,
        )

    def ingest_paths(self, paths: Sequence[Path], *, columns: LibraryColumns | None = None,
                     progress: Progress | None = None, actor: str = "cli") -> IngestReport:
        started = time.perf_counter()
        files, problems = discover_files(paths)
        # Streamed: a file is read when the pipeline reaches it, not all up front.
        items = itertools.chain(problems, file_items(files, columns,
                                                         self.settings.knowledge_limits))
        with tracing.span("ingest", {"ddq.files": len(files)}):
            report = self.ingest_items(items, total=len(files) + len(problems),
                                       progress=progress, actor=actor)
        report.seconds = time.perf_counter() - started
        return report

    def ingest_items(self, items: Iterable[IngestItem | FileResult], *, total: int | None = None,
                     progress: Progress | None = None, actor: str = "cli") -> IngestReport:
        started = time.perf_counter()
        # What an earlier run committed but did not confirm in the vector index comes first.
        vectors_repaired = self.ensure_vector_index()
        report = self.pipeline(progress, actor).run(items, total=total)
        if vectors_repaired is not None:
            report.repairs.append(vectors_repaired)
        if report.changed:
            with timed(INGEST_STAGE, "keyword_index"):
                self.rebuild_keyword_index()
            if "retriever" in self.__dict__:
                self.retriever.library_changed()
        elif (repair := self._keyword.ensure()) is not None:
            # Nothing new, but the keyword index was behind what an earlier run committed
            # (a crash between the store and the index): "unchanged" must not mean "broken".
            report.repairs.append(repair)
        for result in report.results:
            INGEST_DOCUMENTS.labels(result.outcome.value).inc()
        INGEST_CHUNKS.inc(report.chunks_written)
        report.seconds = time.perf_counter() - started
        return report

    def rebuild_keyword_index(self) -> int:
        return self._keyword.rebuild()

    def remove(self, path: str, *, actor: str = "cli") -> int:
        """Delete a document from the store and every index; returns its chunk count."""
        candidates = {path, str(Path(path).resolve())}
        with self.store.transaction() as tx:
            info = next((d for d in (tx.find_document(self.workspace, c) for c in candidates)
                         if d is not None), None)
            if info is None:
                raise DDQError(ErrorCode.NOT_FOUND,
                               f"no document {path!r} in workspace {self.workspace!r}")
            ids = tx.delete_document(info.id)
            tx.audit(workspace=self.workspace, actor=actor, action="document.removed",
                     subject=info.source_path, detail={"chunks": len(ids)})
        if ids:
            for index in (self.chunk_index, self.question_index):
                index.delete(ids)
                index.flush()
        self.rebuild_keyword_index()
        return len(ids)

    def reindex(self, progress: Progress | None = None) -> dict[str, int]:
        """Drop and rebuild every index from the store alone (vectors from the cache or model)."""
        pipeline = self.pipeline(progress)
        report = IngestReport()
        for index in (self.chunk_index, self.question_index):
            index.drop()
            index.ensure()
        chunks = 0
        questions = 0
        total = self.store.counts(self.workspace).chunks
        if progress is not None:
            progress.start(total)
        for workspace in self.store.workspaces():
            for batch in self.store.iter_chunks(workspace):
                texts = [c.embedding_text for c in batch]
                vectors, _ = pipeline.cached_vectors(texts, report)
                self.chunk_index.insert(workspace=workspace, ids=[c.id for c in batch],
                                        document_ids=[c.document_id for c in batch],
                                        vectors=vectors)
                library = [c for c in batch if c.question]
                if library:
                    asked = [c.question or "" for c in library]
                    qv, _ = pipeline.cached_vectors(asked, report)
                    self.question_index.insert(workspace=workspace, ids=[c.id for c in library],
                                               document_ids=[c.document_id for c in library],
                                               vectors=qv)
                chunks += len(batch)
                questions += len(library)
                if progress is not None and workspace == self.workspace:
                    for chunk in batch:
                        progress.advance(chunk.source_path)
        if progress is not None:
            progress.finish()
        self.chunk_index.flush()
        self.question_index.flush()
        keyword = self.rebuild_keyword_index()
        with self.store.transaction() as tx:
            tx.audit(workspace=self.workspace, action="index.rebuilt", subject="all",
                     detail={"chunks": chunks, "embedded": report.embedded_texts})
        return {"chunks": chunks, "library_questions": questions, "keyword": keyword,
                "embedded": report.embedded_texts, "cached": report.cached_texts}

    def retrieve(self, question: str, *, top_k: int | None = None) -> RetrievalResult:
        question = question.strip()
        if not question:
            raise DDQError(ErrorCode.INVALID_INPUT, "the question is empty")
        # Another process may have changed the store since: at most one cheap check (a
        # count and a max) every few seconds.
        self._ensure_keyword_quietly(KEYWORD_CHECK_S)
        return self.retriever.retrieve(question, top_k=top_k)

    def ask(self, question: str) -> Answer:
        return self.draft([self.retrieve(question)])[0]

    def draft(self, retrievals: list[RetrievalResult]) -> list[Answer]:
        """Draft answers for retrieved questions, measured (metrics, and a span)."""
        with tracing.span("draft", {"ddq.drafter": self.drafter_kind,
                                    "ddq.questions": len(retrievals)}) as current:
            started = time.perf_counter()
            # Flagged library entries as evidence only; expired evidence never the only
            # support of an answer (trust/guard.py).
            answers = draft_checked(self.store.engine, self.workspace, retrievals,
                                    self.drafter.answer_many)
            observe_drafts(answers, time.perf_counter() - started, self.drafter_kind)
            tracing.set_attributes(current, {
                "ddq.needs_input": sum(a.status.value == "needs_input" for a in answers)})
        return answers

    @property
    def drafter_kind(self) -> str:
        """``extractive`` or ``llm``: the drafter label of the metrics."""
        return "extractive" if self.drafter is self.answerer else "llm"

    def status(self) -> Status:
        return knowledge_status(self)

    def _all_chunks(self) -> int:
        return sum(self.store.counts(w).chunks for w in self.store.workspaces())


class _LazyEmbedder(Embedder):
    """Defers resolving (and so loading) the model until a text really needs embedding."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        self.model_id = kb.settings.embedder if kb._embedder is None else (
            kb._embedder.model_id)
        self.max_batch_size = 1 << 30

    @property
    def dimension(self) -> int:  # type: ignore[override]
        return self._kb.embedder.dimension

    def embed_batch(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
        return self._kb.embedder.embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._kb.embedder.count_tokens(texts)
