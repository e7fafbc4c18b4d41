"""The knowledge store: documents, chunks, library entries, embedding cache, audit log.

Methods that change data run inside :meth:`KnowledgeStore.transaction`, so a caller can
write a document, index its vectors, and commit or roll back as one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ddq.domain import ChunkDraft, ChunkKind, Location, StoredChunk
from ddq.errors import DDQError, ErrorCode
from ddq.store.schema import AuditRow, ChunkRow, DocumentRow, EmbeddingRow, LibraryEntryRow, utcnow


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    workspace: str
    source_path: str
    title: str
    format: str
    content_hash: str
    chunk_count: int


@dataclass(frozen=True, slots=True)
class StoreCounts:
    documents: int
    chunks: int
    library_entries: int
    cached_embeddings: int


def _info(row: DocumentRow) -> DocumentInfo:
    return DocumentInfo(
        id=row.id,
        workspace=row.workspace,
        source_path=row.source_path,
        title=row.title,
        format=row.format,
        content_hash=row.content_hash,
        chunk_count=row.chunk_count,
    )


class StoreTransaction:
    """Writes inside one database transaction (see :meth:`KnowledgeStore.transaction`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find_document(self, workspace: str, source_path: str) -> DocumentInfo | None:
        row = self.session.scalar(
            select(DocumentRow).where(
                DocumentRow.workspace == workspace, DocumentRow.source_path == source_path
            )
        )
        return _info(row) if row else None

    def chunk_ids(self, document_id: int) -> list[int]:
        return list(
            self.session.scalars(select(ChunkRow.id).where(ChunkRow.document_id == document_id))
        )

    def put_document(
        self,
        *,
        workspace: str,
        source_path: str,
        title: str,
        format: str,
        content_hash: str,
        size_bytes: int,
        chunks: Sequence[ChunkDraft],
        text_hashes: Sequence[str],
        indexed: bool = True,
    ) -> tuple[int, list[int], list[int]]:
        """Insert or replace a document with its chunks. Returns (doc id, new ids, old ids).
        ``indexed=False`` marks it as not yet in the vector index (see :meth:`mark_indexed`)."""
        row = self.session.scalar(
            select(DocumentRow).where(
                DocumentRow.workspace == workspace, DocumentRow.source_path == source_path
            )
        )
        old_ids: list[int] = []
        if row is None:
            row = DocumentRow(
                workspace=workspace, source_path=source_path, created_at=utcnow()
            )
            self.session.add(row)
        else:
            old_ids = self.chunk_ids(row.id)
            self.session.execute(
                delete(LibraryEntryRow).where(LibraryEntryRow.document_id == row.id)
            )
            self.session.execute(delete(ChunkRow).where(ChunkRow.document_id == row.id))
        row.title = title[:512]
        row.format = format
        row.content_hash = content_hash
        row.size_bytes = size_bytes
        row.chunk_count = len(chunks)
        row.updated_at = utcnow()
        row.indexed = indexed
        self.session.flush()
        chunk_rows = [
            ChunkRow(
                document_id=row.id,
                workspace=workspace,
                ordinal=draft.ordinal,
                kind=draft.kind.value,
                text=draft.text,
                location=draft.location.to_json(),
                token_count=draft.token_count,
                text_hash=text_hash,
            )
            for draft, text_hash in zip(chunks, text_hashes, strict=True)
        ]
        self.session.add_all(chunk_rows)
        self.session.flush()
        for draft, chunk_row in zip(chunks, chunk_rows, strict=True):
            if draft.kind is ChunkKind.LIBRARY:
                self.session.add(
                    LibraryEntryRow(
                        workspace=workspace,
                        chunk_id=chunk_row.id,
                        document_id=row.id,
                        question=draft.question or "",
                        answer=draft.answer or "",
                        owner=draft.owner,
                        review_by=draft.review_by,
                        status="approved",
                        created_at=utcnow(),
                    )
                )
        self.session.flush()
        return row.id, [c.id for c in chunk_rows], old_ids

    def delete_document(self, document_id: int) -> list[int]:
        ids = self.chunk_ids(document_id)
        self.session.execute(
            delete(LibraryEntryRow).where(LibraryEntryRow.document_id == document_id)
        )
        self.session.execute(delete(ChunkRow).where(ChunkRow.document_id == document_id))
        self.session.execute(delete(DocumentRow).where(DocumentRow.id == document_id))
        return ids

    def audit(self, *, workspace: str, action: str, subject: str, detail: dict[str, object],
              actor: str = "cli") -> None:
        self.session.add(
            AuditRow(workspace=workspace, actor=actor, action=action, subject=subject[:1024],
                     detail=detail, at=utcnow())
        )


class KnowledgeStore:
    """Reads and transactions over the relational store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """One database transaction: committed on success, rolled back on any error."""
        try:
            with self._sessions.begin() as session:
                yield StoreTransaction(session)
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc

    def documents(self, workspace: str) -> list[DocumentInfo]:
        with self._sessions() as session:
            rows = session.scalars(
                select(DocumentRow)
                .where(DocumentRow.workspace == workspace)
                .order_by(DocumentRow.source_path)
            )
            return [_info(r) for r in rows]

    def document_hashes(self, workspace: str) -> dict[str, str]:
        with self._sessions() as session:
            rows = session.execute(
                select(DocumentRow.source_path, DocumentRow.content_hash).where(
                    DocumentRow.workspace == workspace
                )
            )
            return {path: digest for path, digest in rows}

    def counts(self, workspace: str) -> StoreCounts:
        with self._sessions() as session:
            def count(model: type, *where: Any) -> int:
                query = select(func.count()).select_from(model).where(*where)
                return int(session.scalar(query) or 0)

            return StoreCounts(
                documents=count(DocumentRow, DocumentRow.workspace == workspace),
                chunks=count(ChunkRow, ChunkRow.workspace == workspace),
                library_entries=count(
                    LibraryEntryRow,
                    LibraryEntryRow.workspace == workspace,
                    LibraryEntryRow.status == "approved",
                ),
                cached_embeddings=count(EmbeddingRow),
            )

    def unindexed_documents(self, workspace: str) -> list[int]:
        """Documents committed whose vectors were not confirmed in the vector index (a
        process killed between the commit and the flush)."""
        with self._sessions() as session:
            return [int(i) for i in session.scalars(
                select(DocumentRow.id).where(DocumentRow.workspace == workspace,
                                             DocumentRow.indexed.is_(False))
                .order_by(DocumentRow.id))]

    def mark_indexed(self, document_ids: Sequence[int]) -> None:
        """Their vectors are flushed into the vector index."""
        if not document_ids:
            return
        try:
            with self._sessions.begin() as session:
                for start in range(0, len(document_ids), 500):
                    session.execute(update(DocumentRow).where(
                        DocumentRow.id.in_(list(document_ids[start:start + 500])))
                        .values(indexed=True))
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc

    def chunk_state(self, workspace: str) -> tuple[int, int]:
        """What identifies the workspace's set of chunks: (how many, the highest id).

        Chunk ids are never reused (AUTOINCREMENT, sequences) and chunks are never changed in
        place (a changed document gets new ones), so from any earlier set the store moves
        only by deleting ids, which lowers the count, or adding ids above every earlier one,
        which raises the highest: an index holding the same count and highest id as the
        store holds the store's chunks."""
        with self._sessions() as session:
            count, highest = session.execute(
                select(func.count(ChunkRow.id), func.max(ChunkRow.id))
                .where(ChunkRow.workspace == workspace)).one()
            return int(count or 0), int(highest or 0)

    def library_entry_count(self, workspace: str) -> int:
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(LibraryEntryRow)
                    .where(
                        LibraryEntryRow.workspace == workspace,
                        LibraryEntryRow.status == "approved",
                        LibraryEntryRow.chunk_id.is_not(None),
                    )
                )
                or 0
            )

    def _chunk_query(self):  # type: ignore[no-untyped-def]
        # Columns, not ChunkRow entities: the rows become StoredChunks at once, and building
        # ORM objects (identity map, state) only to copy them was most of a read's time.
        return (
            select(ChunkRow.id, ChunkRow.document_id, ChunkRow.workspace, ChunkRow.ordinal,
                   ChunkRow.kind, ChunkRow.text, ChunkRow.location, DocumentRow.source_path,
                   DocumentRow.title, LibraryEntryRow.question, LibraryEntryRow.answer,
                   LibraryEntryRow.review_by)
            .join(DocumentRow, DocumentRow.id == ChunkRow.document_id)
            .outerjoin(LibraryEntryRow, LibraryEntryRow.chunk_id == ChunkRow.id)
        )

    @staticmethod
    def _stored(row: Any) -> StoredChunk:
        (chunk_id, document_id, workspace, ordinal, kind, text, location, source_path, title,
         question, answer, review_by) = row
        return StoredChunk(
            id=chunk_id,
            document_id=document_id,
            workspace=workspace,
            ordinal=ordinal,
            kind=ChunkKind(kind),
            text=text,
            location=Location.from_json(location),
            source_path=source_path,
            title=title,
            question=question,
            answer=answer,
            review_by=review_by,
        )

    def chunks_by_ids(self, workspace: str, ids: Iterable[int]) -> dict[int, StoredChunk]:
        """Chunks of ``workspace`` by id; ids the store no longer has are dropped."""
        wanted = list(dict.fromkeys(ids))
        found: dict[int, StoredChunk] = {}
        with self._sessions() as session:
            for start in range(0, len(wanted), 900):
                part = wanted[start : start + 900]
                query = self._chunk_query().where(
                    ChunkRow.id.in_(part), ChunkRow.workspace == workspace
                )
                for row in session.execute(query):
                    stored = self._stored(tuple(row))
                    found[stored.id] = stored
        return found

    def iter_chunks(self, workspace: str | None = None, batch_size: int = 2000, *,
                    documents: Sequence[int] | None = None) -> Iterator[list[StoredChunk]]:
        """Every chunk (of one workspace, or all; of these documents, or all), in id order,
        in batches."""
        last_id = 0
        with self._sessions() as session:
            while True:
                query = self._chunk_query().where(ChunkRow.id > last_id)
                if workspace is not None:
                    query = query.where(ChunkRow.workspace == workspace)
                if documents is not None:
                    query = query.where(ChunkRow.document_id.in_(list(documents)))
                rows = session.execute(query.order_by(ChunkRow.id).limit(batch_size)).all()
                if not rows:
                    return
                batch = [self._stored(tuple(r)) for r in rows]
                last_id = batch[-1].id
                yield batch

    def workspaces(self) -> list[str]:
        with self._sessions() as session:
            return sorted(session.scalars(select(DocumentRow.workspace).distinct()))

    # --- embedding cache -------------------------------------------------------------------

    def cached_vectors(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self._sessions() as session:
            for start in range(0, len(unique), 900):
                part = unique[start : start + 900]
                rows = session.execute(
                    select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                        EmbeddingRow.model_id == model_id, EmbeddingRow.text_hash.in_(part)
                    )
                )
                for text_hash, blob in rows:
                    found[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    def cache_vectors(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        """Add vectors to the cache; hashes already cached are left as they are."""
        if not items:
            return
        existing = self.cached_vectors(model_id, list(items))
        rows = [
            {"model_id": model_id, "text_hash": h, "vector": v.astype(np.float32).tobytes()}
            for h, v in items.items()
            if h not in existing
        ]
        if not rows:
            return
        try:
            with self._sessions.begin() as session:
                session.execute(insert(EmbeddingRow), rows)
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc

    def clear_cached_vectors(self, model_id: str) -> int:
        """Forget every cached vector of ``model_id``; returns how many were dropped."""
        try:
            with self._sessions.begin() as session:
                result = session.execute(delete(EmbeddingRow).where(
                    EmbeddingRow.model_id == model_id))
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def audit_entries(self, workspace: str) -> list[AuditRow]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(AuditRow).where(AuditRow.workspace == workspace).order_by(AuditRow.id)
                )
            )
