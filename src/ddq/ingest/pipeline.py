"""The ingestion pipeline: hash, skip unchanged, parse, chunk, embed in batches, write.

Each document is all-or-nothing: its chunks enter the store and the vector index inside one
database transaction, and a failure anywhere rolls back both, leaving what was stored
before. A document is committed marked not yet indexed and marked once the vector indexes
are flushed: a process killed in between leaves the mark, and the next ingest writes those
vectors again (:class:`ddq.index.repair.VectorRepair`).
The embedding model is only loaded when some chunk is not in the embedding cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np

from ddq import tracing
from ddq.domain import ChunkDraft, ChunkKind, LoadedDocument
from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, PackageLimits
from ddq.index.repair import Repair
from ddq.index.vector import MilvusVectorIndex
from ddq.ingest.chunking import chunk_document
from ddq.ingest.library_loaders import LibraryColumns
from ddq.ingest.loaders import SUPPORTED_SUFFIXES, load_file
from ddq.metrics import INGEST_STAGE, timed
from ddq.models.base import Embedder
from ddq.models.cache import CachedEmbedder
from ddq.safe_open import read_bounded
from ddq.store.repository import KnowledgeStore

GROUP_CHUNKS = 1024


class Outcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class FileResult:
    source: str
    outcome: Outcome
    chunks: int = 0
    detail: str = ""


@dataclass(slots=True)
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    embedded_texts: int = 0
    cached_texts: int = 0
    seconds: float = 0.0
    #: Derived indexes found behind the store and rebuilt by this run.
    repairs: list[Repair] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def changed(self) -> bool:
        return any(r.outcome in (Outcome.ADDED, Outcome.UPDATED) for r in self.results)

    @property
    def chunks_written(self) -> int:
        return sum(r.chunks for r in self.results if r.outcome in (Outcome.ADDED, Outcome.UPDATED))


@dataclass(frozen=True, slots=True)
class IngestItem:
    """One source to ingest: a stable key, its content hash, and how to parse it."""

    source: str
    content_hash: str
    size_bytes: int
    load: Callable[[], LoadedDocument]


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, label: str) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass

    def finish(self) -> None:
        pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Bumped whenever a file loader reads the same bytes differently (a new column rule, a new
#: fallback), so that `ddq ingest` re-reads files it already has instead of skipping them.
LOADER_VERSION = "2"


def file_hash(data: bytes) -> str:
    """What decides whether a file is unchanged: its bytes and the loaders that read them."""
    return sha256(f"ddq-loaders-{LOADER_VERSION}\n".encode() + data)


def discover_files(paths: Sequence[Path]) -> tuple[list[Path], list[FileResult]]:
    """Expand folders (recursively, sorted); report paths that do not exist or are unsupported."""
    files: list[Path] = []
    problems: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(p.startswith(".") for p in child.relative_to(path).parts)
                if child.is_file() and not hidden:
                    if child.suffix.lower() in SUPPORTED_SUFFIXES:
                        files.append(child)
                    else:
                        problems.append(FileResult(str(child), Outcome.SKIPPED,
                                                   detail=f"unsupported file type "
                                                          f"{child.suffix or '(none)'}"))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(FileResult(str(path), Outcome.FAILED, detail="no such file or folder"))
    return list(dict.fromkeys(files)), problems


def file_items(files: Iterable[Path], columns: LibraryColumns | None = None,
               limits: PackageLimits = DEFAULT_LIMITS) -> Iterator[IngestItem | FileResult]:
    for given in files:
        path = given.resolve()
        source = str(path)
        try:
            data = read_bounded(path, limits)  # refused by size before it is read
        except DDQError as exc:
            yield FileResult(source, Outcome.FAILED, detail=exc.detail)
            continue
        yield IngestItem(
            source=source,
            content_hash=file_hash(data),
            size_bytes=len(data),
            load=functools.partial(load_file, path, data, columns, limits),
        )


@dataclass(frozen=True, slots=True)
class _Vectors:
    vectors: np.ndarray
    hashes: list[str]
    question_vectors: np.ndarray
    embedded: int  # distinct texts the model embedded
    cached: int  # texts served from the cache


@dataclass(slots=True)
class _Pending:
    item: IngestItem
    document: LoadedDocument
    chunks: list[ChunkDraft]
    existed: bool


class IngestPipeline:
    def __init__(
        self,
        *,
        store: KnowledgeStore,
        embedder: Embedder,
        chunk_index: Callable[[], MilvusVectorIndex],
        question_index: Callable[[], MilvusVectorIndex],
        workspace: str,
        max_tokens: int,
        overlap_tokens: int,
        progress: Progress | None = None,
        actor: str = "cli",
    ) -> None:
        self.actor = actor
        self.store = store
        self.embedder = embedder
        self._chunk_index = chunk_index
        self._question_index = question_index
        self.workspace = workspace
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.progress = progress or NoProgress()
        #: Documents this run committed, to be marked indexed once the vectors are flushed.
        self._committed: list[int] = []

    def run(self, items: Iterable[IngestItem | FileResult], *, total: int | None = None
            ) -> IngestReport:
        report = IngestReport()
        known = self.store.document_hashes(self.workspace)
        self.progress.start(total or 0)
        group: list[_Pending] = []
        group_chunks = 0
        # One group ahead: the model embeds group N+1 on a worker thread while this thread
        # writes group N and parses and chunks what follows, so the model never waits for
        # the store, Milvus or the chunker.
        ahead: tuple[list[_Pending], Future[_Vectors]] | None = None
        embedding = ThreadPoolExecutor(1, thread_name_prefix="ddq-ingest-embed")

        def submit(ready: list[_Pending]) -> None:
            nonlocal ahead
            future = embedding.submit(tracing.in_context(self._embed_group), ready)
            if ahead is not None:
                self._write_group(*ahead, report)
            ahead = (ready, future)

        try:
            for item in items:
                if isinstance(item, FileResult):
                    report.results.append(item)
                    self.progress.advance(item.source)
                    continue
                if known.get(item.source) == item.content_hash:
                    report.results.append(FileResult(item.source, Outcome.UNCHANGED))
                    self.progress.advance(item.source)
                    continue
                try:
                    with timed(INGEST_STAGE, "parse"):
                        document = item.load()
                    with timed(INGEST_STAGE, "chunk"):
                        chunks = chunk_document(
                            document,
                            max_tokens=self.max_tokens,
                            overlap_tokens=self.overlap_tokens,
                            count_tokens=self.embedder.count_tokens,
                        )
                    if not chunks:
                        raise DDQError(ErrorCode.EMPTY_FILE, f"{item.source}: no text to index")
                except DDQError as exc:
                    report.results.append(FileResult(item.source, Outcome.FAILED,
                                                     detail=exc.detail))
                    self.progress.advance(item.source)
                    continue
                group.append(_Pending(item, document, chunks, item.source in known))
                group_chunks += len(chunks)
                if group_chunks >= GROUP_CHUNKS:
                    submit(group)
                    group, group_chunks = [], 0
            if group:
                submit(group)
            if ahead is not None:
                self._write_group(*ahead, report)
        finally:
            # On an error, the group being embedded is finished (not cut off mid-write of the
            # cache) before the error goes on.
            embedding.shutdown(wait=True, cancel_futures=True)
            self.progress.finish()
        if report.changed:
            self._chunk_index().flush()
            self._question_index().flush()
            self.store.mark_indexed(self._committed)
        return report

    def cached_vectors(self, texts: Sequence[str], report: IngestReport
                       ) -> tuple[np.ndarray, list[str]]:
        """Vectors for ``texts``, from the cache where possible; returns (vectors, hashes)."""
        result = CachedEmbedder(self.embedder, self.store).lookup(texts)
        report.cached_texts += result.cached
        report.embedded_texts += result.embedded
        return result.vectors, result.hashes

    def _embed_group(self, group: list[_Pending]) -> _Vectors:
        """The vectors of a group's chunks and library questions (cache first); thread-safe:
        it touches no report, only the cache and the model."""
        cache = CachedEmbedder(self.embedder, self.store)
        with timed(INGEST_STAGE, "embed"):
            chunks = cache.lookup([c.embedding_text for p in group for c in p.chunks])
            questions = cache.lookup([c.question or "" for p in group for c in p.chunks
                                      if c.kind is ChunkKind.LIBRARY])
        return _Vectors(chunks.vectors, chunks.hashes, questions.vectors,
                        embedded=chunks.embedded + questions.embedded,
                        cached=chunks.cached + questions.cached)

    def _write_group(self, group: list[_Pending], embedding: Future[_Vectors] | None,
                     report: IngestReport) -> None:
        """Store a group in one transaction. ``embedding`` is its vectors being made on the
        worker thread; None embeds here (a retry, whose vectors are cached by then)."""
        try:
            embedded = embedding.result() if embedding is not None else self._embed_group(group)
        except DDQError as exc:
            for pending in group:
                report.results.append(FileResult(pending.item.source, Outcome.FAILED,
                                                 detail=f"embedding failed: {exc.detail}"))
                self.progress.advance(pending.item.source)
            return
        report.embedded_texts += embedded.embedded
        report.cached_texts += embedded.cached
        vectors, hashes = embedded.vectors, embedded.hashes
        question_vectors = embedded.question_vectors
        chunk_index = self._chunk_index()
        question_index = self._question_index()
        inserted: list[int] = []
        replaced: list[int] = []
        index_started = time.perf_counter()
        try:
            with self.store.transaction() as tx:
                offset = 0
                chunk_ids: list[int] = []
                chunk_docs: list[int] = []
                library_ids: list[int] = []
                library_docs: list[int] = []
                doc_ids: list[int] = []
                for pending in group:
                    n = len(pending.chunks)
                    doc_id, new_ids, old_ids = tx.put_document(
                        workspace=self.workspace,
                        source_path=pending.item.source,
                        title=pending.document.title,
                        format=pending.document.format,
                        content_hash=pending.item.content_hash,
                        size_bytes=pending.item.size_bytes,
                        chunks=pending.chunks,
                        text_hashes=hashes[offset : offset + n],
                        indexed=False,
                    )
                    doc_ids.append(doc_id)
                    chunk_ids.extend(new_ids)
                    chunk_docs.extend([doc_id] * n)
                    for chunk_id, chunk in zip(new_ids, pending.chunks, strict=True):
                        if chunk.kind is ChunkKind.LIBRARY:
                            library_ids.append(chunk_id)
                            library_docs.append(doc_id)
                    replaced.extend(old_ids)
                    offset += n
                    tx.audit(workspace=self.workspace, actor=self.actor,
                             action="document.updated" if pending.existed else "document.added",
                             subject=pending.item.source,
                             detail={"chunks": n, "content_hash": pending.item.content_hash})
                # One write per index for the whole group (a round trip per document cost
                # ~1 ms each), still inside the transaction: a failure rolls both back.
                # Recorded before the insert: a failed insert may still have written rows.
                inserted.extend(chunk_ids)
                chunk_index.insert(workspace=self.workspace, ids=chunk_ids,
                                   document_ids=chunk_docs, vectors=vectors)
                if library_ids:
                    question_index.insert(workspace=self.workspace, ids=library_ids,
                                          document_ids=library_docs,
                                          vectors=question_vectors)
        except DDQError as exc:
            # Roll the vector index back too: the transaction already rolled back the store.
            self._discard(inserted)
            if len(group) > 1:
                # One bad document must not sink the others: write them one by one (their
                # vectors are cached now, so this costs no model time).
                for pending in group:
                    self._write_group([pending], None, report)
                return
            for pending in group:
                report.results.append(FileResult(pending.item.source, Outcome.FAILED,
                                                 detail=exc.detail))
                self.progress.advance(pending.item.source)
            return
        self._committed.extend(doc_ids)
        self._discard(sorted(set(replaced) - set(inserted)))
        INGEST_STAGE.labels("index").observe(time.perf_counter() - index_started)
        for pending in group:
            outcome = Outcome.UPDATED if pending.existed else Outcome.ADDED
            report.results.append(FileResult(pending.item.source, outcome,
                                             chunks=len(pending.chunks),
                                             detail="; ".join(pending.document.notes)))
            self.progress.advance(pending.item.source)

    def _discard(self, ids: list[int]) -> None:
        """Remove ids from both vector indexes; leftovers are invisible (hydration drops them)."""
        if not ids:
            return
        for index in (self._chunk_index(), self._question_index()):
            with contextlib.suppress(DDQError):
                index.delete(ids)
