"""Approved answers whose sources changed after they were approved.

An approved draft, or a library entry approved from one, cites passages (chunks). When a
document is re-ingested its chunks are replaced, and a removed document's are deleted; the
store keeps every deleted chunk (``store/trust.py``). A cited chunk that is gone is compared,
sentence by sentence, with what its document holds now:

- every sentence still there (a re-ingest that only moved chunk boundaries, or changed
  another passage of the document): unchanged, no flag;
- a sentence gone: the passage *changed*, shown beside the current passage most like it, or
  *removed* when none is like it; the document gone: *document removed*.

A flag stands until the answer is approved again after the change: a draft re-approved in
review, a library entry updated by its owner. A flagged library entry is used only as
evidence, never reused verbatim, until then (:func:`flagged_library_items`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from ddq.domain import Citation
from ddq.store.schema import (
    DraftRow,
    LibraryItemRow,
    QuestionnaireRow,
    QuestionRow,
    as_utc,
)
from ddq.store.trust import CurrentChunk, TrustStore

#: Below this likeness (difflib ratio) no current passage is the new version of an old one.
SIMILAR = 0.4
_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")


def sentences(text: str) -> list[str]:
    """A passage's sentences, compared without case, list marks or spacing."""
    out = []
    for part in _SPLIT.split(text):
        cleaned = " ".join(re.sub(r"^[\s>*+\-#|]+", "", part).split()).casefold()
        if len(cleaned) > 2:
            out.append(cleaned)
    return out


@dataclass(frozen=True, slots=True)
class PassageChange:
    """One cited passage that is no longer what it was."""

    chunk_id: int
    source_path: str
    location: str
    kind: str  # changed / removed / document removed
    before: str
    after: str | None
    changed_at: datetime | None

    def to_json(self) -> dict[str, object]:
        return {
            "chunk_id": self.chunk_id,
            "source_path": self.source_path,
            "location": self.location,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
        }


@dataclass(frozen=True, slots=True)
class StaleAnswer:
    """An approved answer with the cited passages that changed after its approval."""

    subject: str  # draft / library
    id: int  # the question's id, or the library entry's
    question: str
    answer: str
    approved_by: str | None
    approved_at: datetime | None
    changes: list[PassageChange]
    questionnaire: str | None = None
    questionnaire_id: int | None = None
    qid: str | None = None

    def label(self) -> str:
        if self.subject == "library":
            return f"library entry {self.id}"
        return f"{self.questionnaire} question {self.qid or self.id}"

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "id": self.id,
            "label": self.label(),
            "question": self.question,
            "answer": self.answer,
            "questionnaire_id": self.questionnaire_id,
            "qid": self.qid,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(slots=True)
class _Approved:
    subject: str
    id: int
    question: str
    answer: str
    approved_by: str | None
    approved_at: datetime | None
    citations: list[Citation]
    questionnaire: str | None = None
    questionnaire_id: int | None = None
    qid: str | None = None


def _citations(raw: Iterable[dict[str, object]]) -> list[Citation]:
    out = []
    for c in raw:
        try:
            out.append(
                Citation(
                    int(c["chunk_id"]),  # type: ignore[call-overload]
                    str(c["source_path"]),
                    str(c.get("location", "")),
                    str(c.get("quote", "")),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _approved_drafts(engine: Engine, workspace: str) -> list[_Approved]:
    newest = (
        select(DraftRow.question_id, func.max(DraftRow.version).label("v"))
        .group_by(DraftRow.question_id)
        .subquery()
    )
    query = (
        select(
            QuestionRow.id,
            QuestionRow.qid,
            QuestionRow.text,
            QuestionRow.reviewed_by,
            QuestionRow.reviewed_at,
            QuestionnaireRow.id,
            QuestionnaireRow.name,
            DraftRow.text,
            DraftRow.citations,
        )
        .join(QuestionnaireRow, QuestionnaireRow.id == QuestionRow.questionnaire_id)
        .join(newest, newest.c.question_id == QuestionRow.id)
        .join(DraftRow, (DraftRow.question_id == QuestionRow.id) & (DraftRow.version == newest.c.v))
        .where(QuestionnaireRow.workspace == workspace, QuestionRow.review_status == "approved")
        .order_by(QuestionnaireRow.id, QuestionRow.ordinal)
    )
    with sessionmaker(engine)() as session:
        return [
            _Approved(
                "draft",
                qid_,
                text,
                answer,
                by,
                as_utc(at) if at else None,
                _citations(citations or []),
                name,
                qn_id,
                qid,
            )
            for qid_, qid, text, by, at, qn_id, name, answer, citations in session.execute(query)
        ]


def _approved_library(engine: Engine, workspace: str) -> list[_Approved]:
    """Approved library entries that came from a questionnaire's draft, with its citations."""
    out: list[_Approved] = []
    with sessionmaker(engine)() as session:
        items = session.scalars(
            select(LibraryItemRow)
            .where(
                LibraryItemRow.workspace == workspace,
                LibraryItemRow.status == "approved",
                LibraryItemRow.source == "questionnaire",
            )
            .order_by(LibraryItemRow.id)
        ).all()
        for item in items:
            provenance = dict(item.provenance or {})
            question_id, version = provenance.get("question_id"), provenance.get("draft_version")
            if not isinstance(question_id, int) or not isinstance(version, int):
                continue
            raw = session.scalar(
                select(DraftRow.citations).where(
                    DraftRow.question_id == question_id, DraftRow.version == version
                )
            )
            by = provenance.get("approved_by")
            out.append(
                _Approved(
                    "library",
                    item.id,
                    item.question,
                    item.answer,
                    str(by) if by else None,
                    as_utc(item.updated_at),
                    _citations(raw or []),
                )
            )
    return out


@dataclass(slots=True)
class _Resolver:
    """Says, for cited chunks that are gone, whether and how their passage changed."""

    store: TrustStore
    workspace: str
    _current: dict[str, list[CurrentChunk] | None] = field(default_factory=dict)
    _lost: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    _updated: dict[str, datetime | None] = field(default_factory=dict)

    def current(self, source: str) -> list[CurrentChunk] | None:
        if source not in self._current:
            self._current[source] = self.store.current_chunks(self.workspace, source)
        return self._current[source]

    def lost_at(self, source: str, missing: Sequence[str]) -> datetime | None:
        """When the last passage holding one of the ``missing`` sentences was deleted."""
        if source not in self._lost:
            self._lost[source] = self.store.archived_texts(self.workspace, source)
        times = [
            at for text, at in self._lost[source] if any(s in sentences(text) for s in missing)
        ]
        return max(times) if times else None

    def resolve(self, gone: Sequence[Citation]) -> dict[int, PassageChange | None]:
        archived = self.store.archived(self.workspace, [c.chunk_id for c in gone])
        out: dict[int, PassageChange | None] = {}
        for citation in gone:
            old = archived.get(citation.chunk_id)
            source = old.source_path if old and old.source_path else citation.source_path
            before = old.text if old else citation.quote
            where = old.location.describe() if old else citation.location
            current = self.current(source)
            old_sentences = sentences(before)
            if current is None:
                out[citation.chunk_id] = PassageChange(
                    citation.chunk_id,
                    source,
                    where,
                    "document removed",
                    before,
                    None,
                    self.lost_at(source, old_sentences) or (old.archived_at if old else None),
                )
                continue
            now = {s for chunk in current for s in sentences(chunk.text)}
            missing = [s for s in old_sentences if s not in now]
            if not missing:
                out[citation.chunk_id] = None
                continue
            best, likeness = None, 0.0
            for chunk in current:
                ratio = difflib.SequenceMatcher(None, before, chunk.text, autojunk=False).ratio()
                if ratio > likeness:
                    best, likeness = chunk, ratio
            changed = best is not None and likeness >= SIMILAR
            out[citation.chunk_id] = PassageChange(
                citation.chunk_id,
                source,
                where,
                "changed" if changed else "removed",
                before,
                best.text if changed and best is not None else None,
                self.lost_at(source, missing) or (old.archived_at if old else None),
            )
        return out


def _flag(store: TrustStore, workspace: str, approved: list[_Approved]) -> list[StaleAnswer]:
    cited = {c.chunk_id for a in approved for c in a.citations}
    present = store.existing(workspace, cited)
    gone = {c.chunk_id: c for a in approved for c in a.citations if c.chunk_id not in present}
    changes = _Resolver(store, workspace).resolve(list(gone.values()))
    out: list[StaleAnswer] = []
    for answer in approved:
        found: list[PassageChange] = []
        for citation in answer.citations:
            change = changes.get(citation.chunk_id)
            if change is None or any(f.chunk_id == change.chunk_id for f in found):
                continue
            # Approved again after the change: the owner has seen the new version.
            if (
                answer.approved_at is not None
                and change.changed_at is not None
                and answer.approved_at > change.changed_at
            ):
                continue
            found.append(change)
        if found:
            out.append(
                StaleAnswer(
                    answer.subject,
                    answer.id,
                    answer.question,
                    answer.answer,
                    answer.approved_by,
                    answer.approved_at,
                    found,
                    answer.questionnaire,
                    answer.questionnaire_id,
                    answer.qid,
                )
            )
    return out


def stale_answers(engine: Engine, workspace: str) -> list[StaleAnswer]:
    """Every approved draft and library entry of ``workspace`` whose cited passages changed
    or went away after its approval, drafts first."""
    store = TrustStore(engine)
    return _flag(
        store, workspace, _approved_drafts(engine, workspace) + _approved_library(engine, workspace)
    )


def flagged_library_items(engine: Engine, workspace: str) -> set[int]:
    """The ids of library entries whose sources changed since their approval."""
    return {
        s.id for s in _flag(TrustStore(engine), workspace, _approved_library(engine, workspace))
    }
