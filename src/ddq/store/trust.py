"""What the stale and expiry checks keep: the passages documents used to have, and the
validity people set by hand.

**Old passages** (``chunk_archive``). A chunk is never changed in place: a re-ingested
document gets new chunks and its old ones are deleted; a removed document's are deleted with
it. A database trigger (migration 0007) copies every chunk row into the archive as it is
deleted, in the same transaction, whatever deletes it (re-ingest, ``ddq remove``, an upload,
the managed library's regenerated document). A citation whose chunk is gone is then read
against the archive: the text it cited, and the document that held it.

**Validity set by hand** (``evidence_validity``): a document's valid-until date given through
the CLI or the API, for the version of the document it was given on (its content hash); a
new version is read afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from ddq.domain import Location
from ddq.errors import DDQError, ErrorCode
from ddq.store.schema import AuditRow, Base, ChunkRow, DocumentRow, utcnow


class ChunkArchiveRow(Base):
    """A chunk as it was when it was deleted (written by a trigger, never by code)."""

    __tablename__ = "chunk_archive"
    __table_args__ = (Index("ix_chunk_archive_source", "workspace", "source_path"),)

    chunk_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document_id: Mapped[int] = mapped_column(Integer)
    workspace: Mapped[str] = mapped_column(String(64))
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    location: Mapped[dict[str, object]] = mapped_column(JSON)
    text_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    #: Seconds since the epoch (UTC), to the millisecond: when the chunk was deleted.
    archived_at: Mapped[float] = mapped_column(Float)


class EvidenceValidityRow(Base):
    """A document's validity as a person set it, for one version of the document."""

    __tablename__ = "evidence_validity"
    __table_args__ = (UniqueConstraint("workspace", "source_path", name="uq_validity_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(String(1024))
    content_hash: Mapped[str] = mapped_column(String(64))
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True, slots=True)
class ArchivedChunk:
    id: int
    document_id: int
    workspace: str
    text: str
    location: Location
    source_path: str | None
    archived_at: datetime


@dataclass(frozen=True, slots=True)
class CurrentChunk:
    id: int
    ordinal: int
    text: str
    location: Location


@dataclass(frozen=True, slots=True)
class ManualValidity:
    source_path: str
    content_hash: str
    valid_until: date | None
    note: str
    set_by: str
    set_at: datetime


def _epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class TrustStore:
    """Reads of old passages and current ones, and the validity people set."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def archived(self, workspace: str, ids: Iterable[int]) -> dict[int, ArchivedChunk]:
        wanted = list(dict.fromkeys(ids))
        out: dict[int, ArchivedChunk] = {}
        with self._sessions() as session:
            for start in range(0, len(wanted), 900):
                rows = session.scalars(
                    select(ChunkArchiveRow).where(
                        ChunkArchiveRow.workspace == workspace,
                        ChunkArchiveRow.chunk_id.in_(wanted[start : start + 900]),
                    )
                )
                for r in rows:
                    out[r.chunk_id] = ArchivedChunk(
                        r.chunk_id,
                        r.document_id,
                        r.workspace,
                        r.text,
                        Location.from_json(r.location),
                        r.source_path,
                        _epoch(r.archived_at),
                    )
        return out

    def archived_texts(self, workspace: str, source_path: str) -> list[tuple[str, datetime]]:
        """Every text ``source_path`` ever had and lost, with when it was lost."""
        with self._sessions() as session:
            rows = session.execute(
                select(ChunkArchiveRow.text, ChunkArchiveRow.archived_at).where(
                    ChunkArchiveRow.workspace == workspace,
                    ChunkArchiveRow.source_path == source_path,
                )
            )
            return [(text, _epoch(at)) for text, at in rows]

    def current_chunks(self, workspace: str, source_path: str) -> list[CurrentChunk] | None:
        """The passages of the document at ``source_path`` now; None when there is none."""
        with self._sessions() as session:
            doc = session.scalar(
                select(DocumentRow.id).where(
                    DocumentRow.workspace == workspace, DocumentRow.source_path == source_path
                )
            )
            if doc is None:
                return None
            rows = session.execute(
                select(ChunkRow.id, ChunkRow.ordinal, ChunkRow.text, ChunkRow.location)
                .where(ChunkRow.document_id == doc)
                .order_by(ChunkRow.ordinal)
            )
            return [CurrentChunk(i, o, t, Location.from_json(loc)) for i, o, t, loc in rows]

    def existing(self, workspace: str, ids: Iterable[int]) -> set[int]:
        wanted = list(dict.fromkeys(ids))
        found: set[int] = set()
        with self._sessions() as session:
            for start in range(0, len(wanted), 900):
                found.update(
                    session.scalars(
                        select(ChunkRow.id).where(
                            ChunkRow.workspace == workspace,
                            ChunkRow.id.in_(wanted[start : start + 900]),
                        )
                    )
                )
        return found

    def first_chunks(
        self, workspace: str, document_ids: Iterable[int], limit: int
    ) -> dict[int, list[str]]:
        """The first ``limit`` passages of each document, heading paths first: where a
        report's cover or a front matter sits."""
        out: dict[int, list[str]] = {}
        with self._sessions() as session:
            for doc in dict.fromkeys(document_ids):
                rows = session.execute(
                    select(ChunkRow.text, ChunkRow.location)
                    .where(ChunkRow.document_id == doc, ChunkRow.workspace == workspace)
                    .order_by(ChunkRow.ordinal)
                    .limit(limit)
                )
                texts: list[str] = []
                for text, location in rows:
                    texts.extend(Location.from_json(location).heading_path)
                    texts.append(text)
                out[doc] = texts
        return out

    # --- validity set by hand ----------------------------------------------------------------

    def manual_validity(self, workspace: str) -> dict[str, ManualValidity]:
        with self._sessions() as session:
            rows = session.scalars(
                select(EvidenceValidityRow).where(EvidenceValidityRow.workspace == workspace)
            )
            return {
                r.source_path: ManualValidity(
                    r.source_path, r.content_hash, r.valid_until, r.note, r.set_by, r.set_at
                )
                for r in rows
            }

    def set_validity(
        self,
        *,
        workspace: str,
        source_path: str,
        content_hash: str,
        valid_until: date | None,
        note: str,
        actor: str,
    ) -> None:
        """Set (or, with ``valid_until`` None and no note, clear) a document's validity."""
        try:
            with self._sessions.begin() as session:
                session.execute(
                    delete(EvidenceValidityRow).where(
                        EvidenceValidityRow.workspace == workspace,
                        EvidenceValidityRow.source_path == source_path,
                    )
                )
                if valid_until is not None or note:
                    session.add(
                        EvidenceValidityRow(
                            workspace=workspace,
                            source_path=source_path,
                            content_hash=content_hash,
                            valid_until=valid_until,
                            note=note,
                            set_by=actor[:128],
                            set_at=utcnow(),
                        )
                    )
                session.add(
                    AuditRow(
                        workspace=workspace,
                        actor=actor,
                        at=utcnow(),
                        action="validity.set",
                        subject=source_path[:1024],
                        detail={
                            "valid_until": valid_until.isoformat() if valid_until else None,
                            "note": note,
                            "content_hash": content_hash,
                        },
                    )
                )
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc
