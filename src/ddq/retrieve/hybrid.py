"""The retriever: embeds questions in one batch, searches Milvus and BM25, fuses the lists.

Dense and keyword hits are chunk ids; they are turned into chunks by one read of the store,
which also drops ids the store no longer has (an index is never trusted over the store).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ddq import tracing
from ddq.answer.lexicon import Lexicon
from ddq.domain import LibraryMatch, RetrievalResult, SearchHit, StoredChunk
from ddq.index.keyword import BM25KeywordIndex, KeywordHit
from ddq.index.vector import MilvusVectorIndex, VectorHit
from ddq.metrics import RETRIEVAL_HITS, RETRIEVAL_QUESTIONS, RETRIEVAL_STAGE, timed
from ddq.models.base import Embedder, Reranker, RerankRequest
from ddq.models.calls import ModelCallError
from ddq.retrieve.fusion import reciprocal_rank_fusion
from ddq.store.repository import KnowledgeStore

#: How long "this workspace has no answer library" is trusted before the store is asked
#: again. A library ingested by another process is seen within this time (this process's own
#: ingestion says so at once, see :meth:`HybridRetriever.library_changed`), and questions asked
#: one at a time do not each pay a count query.
LIBRARY_RECHECK_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    top_k: int = 8
    candidate_k: int = 50
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    library_k: int = 3
    #: Fused candidates a reranker (when configured) reorders, per question.
    rerank_k: int = 20


class HybridRetriever:
    def __init__(
        self,
        *,
        store: KnowledgeStore,
        embedder: Embedder,
        chunk_index: MilvusVectorIndex,
        question_index: MilvusVectorIndex,
        keyword_index: BM25KeywordIndex,
        workspace: str,
        settings: RetrievalSettings | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunk_index = chunk_index
        self.question_index = question_index
        self.keyword_index = keyword_index
        self.workspace = workspace
        self.settings = settings or RetrievalSettings()
        self.reranker = reranker
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ddq-bm25")
        self._has_library = False
        self._library_checked = float("-inf")
        self._clock: Callable[[], float] = time.monotonic

    def retrieve(self, question: str, *, top_k: int | None = None) -> RetrievalResult:
        return self.retrieve_many([question], top_k=top_k)[0]

    def embed_questions(self, questions: Sequence[str]) -> np.ndarray:
        """The questions' vectors, as ``retrieve_many`` makes them (one embedding call)."""
        with timed(RETRIEVAL_STAGE, "embed"):
            return self.embedder.embed(list(questions))

    def retrieve_many(self, questions: Sequence[str], *, top_k: int | None = None,
                      vectors: np.ndarray | None = None) -> list[RetrievalResult]:
        """Retrieve for a batch of questions: one embedding call (none when ``vectors``, from
        ``embed_questions``, come with them), one search per index."""
        if not questions:
            return []
        if vectors is not None and len(vectors) != len(questions):
            raise ValueError(f"{len(vectors)} vectors for {len(questions)} questions")
        with tracing.span("retrieve", {"ddq.questions": len(questions)}):
            s = self.settings
            top_k = top_k or s.top_k
            keyword_future = self._pool.submit(tracing.in_context(self._keyword_search),
                                               questions, s.candidate_k)
            if vectors is None:
                vectors = self.embed_questions(questions)
            with timed(RETRIEVAL_STAGE, "dense"):
                dense = self.chunk_index.search(
                    workspace=self.workspace, vectors=vectors, limit=s.candidate_k
                )
                library = self._library_search(vectors)
            keyword = keyword_future.result()
            with timed(RETRIEVAL_STAGE, "fusion"):
                results = self._assemble(questions, dense, keyword, library, top_k, vectors)
            RETRIEVAL_QUESTIONS.inc(len(questions))
            for result in results:
                RETRIEVAL_HITS.observe(len(result.hits))
            return results

    def _keyword_search(self, questions: Sequence[str], limit: int) -> list[list[KeywordHit]]:
        with timed(RETRIEVAL_STAGE, "keyword"):
            return self.keyword_index.search(self.keyword_queries(questions), limit)

    def keyword_queries(self, questions: Sequence[str]) -> list[str]:
        """The keyword queries for questions: each with the other forms of the field's
        terms it uses ("MFA" also searches "multi-factor authentication"), from the
        answerer's lexicon."""
        return [self._lexicon.expand_query(q) for q in questions]

    @functools.cached_property
    def _lexicon(self) -> Lexicon:
        return Lexicon(self.keyword_index.stem_terms)

    def rankings(self, questions: Sequence[str], *, limit: int
                 ) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
        """Chunk-id rankings per question: (dense, keyword, fused). Used by the evaluation."""
        vectors = self.embedder.embed(list(questions))
        dense: list[list[VectorHit]] = []
        for start in range(0, len(vectors), 100):
            dense.extend(self.chunk_index.search(workspace=self.workspace,
                                                 vectors=vectors[start : start + 100],
                                                 limit=limit))
        keyword = self.keyword_index.search(self.keyword_queries(questions), limit)
        dense_ids = [[h.id for h in row] for row in dense]
        keyword_ids = [[h.id for h in row] for row in keyword]
        fused = [[i for i, _ in self.fuse(d, k)] for d, k in zip(dense_ids, keyword_ids,
                                                                  strict=True)]
        return dense_ids, keyword_ids, fused

    def fuse(self, dense_ids: Sequence[int], keyword_ids: Sequence[int]
             ) -> list[tuple[int, float]]:
        s = self.settings
        return reciprocal_rank_fusion([dense_ids, keyword_ids], k=s.rrf_k,
                                      weights=[s.dense_weight, s.keyword_weight])

    def library_changed(self) -> None:
        """This process changed the answer library: the next search asks the store again."""
        self._library_checked = float("-inf")

    def _library_search(self, vectors: np.ndarray) -> list[list[VectorHit]]:
        if not self._has_library:  # re-checked until true: a library may be ingested later
            now = self._clock()
            if now - self._library_checked >= LIBRARY_RECHECK_SECONDS:
                self._has_library = self.store.library_entry_count(self.workspace) > 0
                self._library_checked = now
        if not self._has_library:
            return [[] for _ in range(len(vectors))]
        return self.question_index.search(
            workspace=self.workspace, vectors=vectors, limit=self.settings.library_k
        )

    def _assemble(
        self,
        questions: Sequence[str],
        dense: list[list[VectorHit]],
        keyword: list[list[KeywordHit]],
        library: list[list[VectorHit]],
        top_k: int,
        vectors: np.ndarray,
    ) -> list[RetrievalResult]:
        fused_per_question = [
            self.fuse([h.id for h in d], [h.id for h in k])
            for d, k in zip(dense, keyword, strict=True)
        ]
        wanted: set[int] = set()
        depth = max(top_k * 2, self.settings.rerank_k if self.reranker else 0)
        for fused in fused_per_question:
            wanted.update(i for i, _ in fused[:depth])
        for hits in library:
            wanted.update(h.id for h in hits)
        chunks = self.store.chunks_by_ids(self.workspace, wanted)
        results: list[RetrievalResult] = []
        for number, (question, fused, d, k, lib) in enumerate(zip(
            questions, fused_per_question, dense, keyword, library, strict=True
        )):
            dense_rank = {h.id: (rank, h.score) for rank, h in enumerate(d, start=1)}
            keyword_rank = {h.id: (rank, h.score) for rank, h in enumerate(k, start=1)}
            found: list[SearchHit] = []
            reranked: dict[int, float] = {}
            if self.reranker is not None:
                fused, reranked = self._rerank(question, fused, chunks)
            for chunk_id, score in fused:
                chunk = chunks.get(chunk_id)
                if chunk is None:
                    continue
                dr = dense_rank.get(chunk_id)
                kr = keyword_rank.get(chunk_id)
                found.append(SearchHit(
                    chunk=chunk, score=score, rerank_score=reranked.get(chunk_id),
                    dense_rank=dr[0] if dr else None, dense_score=dr[1] if dr else None,
                    keyword_rank=kr[0] if kr else None, keyword_score=kr[1] if kr else None,
                ))
                if len(found) >= top_k:
                    break
            matches = [LibraryMatch(chunks[h.id], h.score) for h in lib if h.id in chunks]
            results.append(RetrievalResult(
                question=question, hits=found, library_matches=matches,
                vector=vectors[number]))
        return results

    def _rerank(self, question: str, fused: list[tuple[int, float]],
                chunks: dict[int, StoredChunk]
                ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """The first ``rerank_k`` fused candidates in the reranker's order, then the rest.
        A reranker that fails leaves the fused order: retrieval never fails because of it."""
        assert self.reranker is not None
        head = [(i, score) for i, score in fused[: self.settings.rerank_k] if i in chunks]
        if len(head) < 2:
            return fused, {}
        try:
            with timed(RETRIEVAL_STAGE, "rerank"):
                response = self.reranker.rerank(RerankRequest(
                    query=question, documents=[chunks[i].embedding_text for i, _ in head]))
        except ModelCallError:
            return fused, {}
        valid = [r for r in response.results if 0 <= r.index < len(head)]
        order = [head[r.index] for r in valid]
        seen = {i for i, _ in order}
        rest = [p for p in head if p[0] not in seen] + fused[self.settings.rerank_k:]
        return order + rest, {head[r.index][0]: r.score for r in valid}
