"""The managed answer library: a living asset, not a spreadsheet that goes stale.

Entries have an owner, a status (draft / approved / retired), tags, a last-reviewed and a
review-by date, and provenance (typed in by whom, or approved in which questionnaire, by
whom, when). Every change is audited with what was there before and after, and guarded by
the version the editor saw (a stale one is a conflict).

How entries reach answers (:func:`library_document`): approved entries are indexed as one
generated document per workspace. An entry within its review-by date is a library entry:
a close match is reused as the approved answer. An entry past its review-by date is still
evidence (it can be quoted and cited) but is never reused verbatim: it ranks below fresh
ones until its owner reviews it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from ddq.domain import Block, LoadedDocument, Location, past_review
from ddq.errors import DDQError, ErrorCode
from ddq.store.schema import AuditRow, LibraryItemRow, as_utc, utcnow

#: Questions at least this similar (cosine) are near-duplicates; with opposite verdicts,
#: conflicting.
DUPLICATE_SIMILARITY = 0.9


class LibraryStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class LibraryItem:
    id: int
    workspace: str
    question: str
    answer: str
    owner: str | None
    status: LibraryStatus
    tags: list[str]
    last_reviewed: date | None
    review_by: date | None
    source: str
    provenance: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    def stale(self, today: date | None = None) -> bool:
        return past_review(self.review_by, today)


@dataclass(slots=True)
class Flags:
    stale: bool = False
    duplicates: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)


def _item(row: LibraryItemRow) -> LibraryItem:
    return LibraryItem(row.id, row.workspace, row.question, row.answer, row.owner,
                       LibraryStatus(row.status), list(row.tags or []), row.last_reviewed,
                       row.review_by, row.source, dict(row.provenance or {}), row.row_version,
                       as_utc(row.created_at), as_utc(row.updated_at))


def _snapshot(row: LibraryItemRow) -> dict[str, object]:
    return {"question": row.question, "answer": row.answer, "owner": row.owner,
            "status": row.status, "tags": list(row.tags or []),
            "last_reviewed": row.last_reviewed.isoformat() if row.last_reviewed else None,
            "review_by": row.review_by.isoformat() if row.review_by else None}


EDITABLE = ("question", "answer", "owner", "status", "tags", "last_reviewed", "review_by")


class LibraryStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def list(self, workspace: str, *, status: LibraryStatus | None = None) -> list[LibraryItem]:
        with self._sessions() as session:
            query = select(LibraryItemRow).where(LibraryItemRow.workspace == workspace)
            if status is not None:
                query = query.where(LibraryItemRow.status == status.value)
            return [_item(r) for r in session.scalars(query.order_by(LibraryItemRow.id))]

    def get(self, workspace: str, item_id: int) -> LibraryItem:
        with self._sessions() as session:
            row = session.get(LibraryItemRow, item_id)
            if row is None or row.workspace != workspace:
                raise DDQError(ErrorCode.NOT_FOUND, f"no library entry {item_id}")
            return _item(row)

    def create(self, *, workspace: str, question: str, answer: str, actor: str,
               owner: str | None = None, status: LibraryStatus = LibraryStatus.DRAFT,
               tags: Sequence[str] = (), last_reviewed: date | None = None,
               review_by: date | None = None, source: str = "manual",
               provenance: dict[str, Any] | None = None) -> LibraryItem:
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            raise DDQError(ErrorCode.INVALID_INPUT, "a library entry needs a question and "
                                                    "an answer")
        now = utcnow()
        row = LibraryItemRow(workspace=workspace, question=question, answer=answer,
                             owner=owner, status=status.value, tags=list(tags),
                             last_reviewed=last_reviewed, review_by=review_by, source=source,
                             provenance=provenance or {"created_by": actor},
                             row_version=0, created_at=now, updated_at=now)
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.flush()
                session.add(AuditRow(workspace=workspace, actor=actor, at=now,
                                     action="library.created", subject=question[:1024],
                                     detail={"id": row.id, "after": _snapshot(row),
                                             "source": source}))
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc
        return _item(row)

    def update(self, *, workspace: str, item_id: int, seen_version: int, actor: str,
               changes: dict[str, Any]) -> LibraryItem:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise DDQError(ErrorCode.INVALID_INPUT, f"cannot change {', '.join(sorted(unknown))}")
        for name in ("question", "answer"):
            if name in changes and not str(changes[name] or "").strip():
                raise DDQError(ErrorCode.INVALID_INPUT, f"{name}: must not be empty")
        if "status" in changes:
            changes["status"] = LibraryStatus(changes["status"]).value
        try:
            with self._sessions.begin() as session:
                row = session.get(LibraryItemRow, item_id)
                if row is None or row.workspace != workspace:
                    raise DDQError(ErrorCode.NOT_FOUND, f"no library entry {item_id}")
                before = _snapshot(row)
                done = session.execute(
                    update(LibraryItemRow)
                    .where(LibraryItemRow.id == item_id,
                           LibraryItemRow.row_version == seen_version)
                    .values(**changes, row_version=LibraryItemRow.row_version + 1,
                            updated_at=utcnow())).rowcount  # type: ignore[attr-defined]
                if done != 1:
                    raise DDQError(ErrorCode.CONFLICT,
                                   f"library entry {item_id} was changed by someone else "
                                   f"(version {row.row_version}, you saw {seen_version})")
                session.refresh(row)
                session.add(AuditRow(workspace=workspace, actor=actor, at=utcnow(),
                                     action="library.updated", subject=row.question[:1024],
                                     detail={"id": row.id, "before": before,
                                             "after": _snapshot(row)}))
                return _item(row)
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc


def flags(items: Sequence[LibraryItem], vectors: np.ndarray | None,
          today: date | None = None) -> dict[int, Flags]:
    """Stale entries, and near-duplicate or conflicting approved entries, by id.
    ``vectors`` are the question vectors of ``items``, row for row (normalised)."""
    from ddq.answer.text import leading_verdict

    out = {item.id: Flags(stale=item.stale(today)) for item in items}
    live = [i for i, item in enumerate(items) if item.status is not LibraryStatus.RETIRED]
    if vectors is None or len(live) < 2:
        return out
    sims = vectors[live] @ vectors[live].T
    for a in range(len(live)):
        for b in range(a + 1, len(live)):
            if sims[a, b] < DUPLICATE_SIMILARITY:
                continue
            first, second = items[live[a]], items[live[b]]
            verdicts = {leading_verdict(first.answer), leading_verdict(second.answer)}
            kind = "conflicts" if verdicts == {"yes", "no"} else "duplicates"
            getattr(out[first.id], kind).append(second.id)
            getattr(out[second.id], kind).append(first.id)
    return out


def library_source(workspace: str) -> str:
    return f"library://{workspace}/managed"


def library_document(items: Sequence[LibraryItem], today: date | None = None
                     ) -> tuple[LoadedDocument, str] | None:
    """The generated document that indexes the approved entries, and its content hash;
    None when there is nothing approved."""
    approved = [i for i in items if i.status is LibraryStatus.APPROVED]
    if not approved:
        return None
    blocks = []
    for item in approved:
        location = Location(row=item.id, heading_path=("Answer library",))
        if item.stale(today):
            # Past its review-by date: evidence, not an answer to reuse as it is.
            blocks.append(Block(text=f"{item.question}\n{item.answer}", location=location))
        else:
            blocks.append(Block(text=f"Q: {item.question}\nA: {item.answer}", location=location,
                                library_question=item.question, library_answer=item.answer,
                                library_owner=item.owner))
    payload = json.dumps([[b.text, b.library_question is not None] for b in blocks])
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return LoadedDocument(title="Answer library", blocks=blocks, format="library"), digest


@dataclass(frozen=True, slots=True)
class ImportedEntry:
    """A library entry that came in with a file (an answer library or an answered
    questionnaire): read-only here, since the file is its source; re-ingesting the file
    replaces it."""

    id: int
    question: str
    answer: str
    owner: str | None
    review_by: date | None
    file: str
    location: Location
    created_at: datetime

    def stale(self, today: date | None = None) -> bool:
        return past_review(self.review_by, today)


def imported_entries(engine: Engine, workspace: str) -> list[ImportedEntry]:
    """The entries of ``workspace`` that files brought in, in file and row order (the
    managed library's own generated document is not one of them)."""
    from ddq.store.schema import ChunkRow, DocumentRow, LibraryEntryRow

    managed = library_source(workspace)
    query = (
        select(LibraryEntryRow.id, LibraryEntryRow.question, LibraryEntryRow.answer,
               LibraryEntryRow.owner, LibraryEntryRow.review_by, DocumentRow.source_path,
               ChunkRow.location, LibraryEntryRow.created_at)
        .join(ChunkRow, ChunkRow.id == LibraryEntryRow.chunk_id)
        .join(DocumentRow, DocumentRow.id == ChunkRow.document_id)
        .where(LibraryEntryRow.workspace == workspace, DocumentRow.source_path != managed)
        .order_by(DocumentRow.source_path, ChunkRow.ordinal)
    )
    with sessionmaker(engine)() as session:
        return [ImportedEntry(row.id, row.question, row.answer, row.owner, row.review_by,
                              row.source_path, Location.from_json(row.location),
                              as_utc(row.created_at))
                for row in session.execute(query)]
