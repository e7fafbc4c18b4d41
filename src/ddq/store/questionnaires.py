"""Questionnaire jobs in the relational store: the questionnaire, its questions, the drafts.

A job is resumable because its state is nothing but these rows: a question is done when it
has a version-1 draft, and each draft is committed on its own as soon as it is made.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ddq.domain import Answer, AnswerStatus, Citation
from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractedQuestion, Target
from ddq.store.schema import AuditRow, DraftRow, QuestionnaireRow, QuestionRow, utcnow


@dataclass(frozen=True, slots=True)
class QuestionnaireInfo:
    id: int
    workspace: str
    name: str
    source_path: str
    source_hash: str
    format: str
    options: dict[str, Any]
    layout: dict[str, Any]
    question_count: int
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    id: int
    ordinal: int
    key: str
    qid: str | None
    text: str
    section: tuple[str, ...]
    location: str
    targets: tuple[Target, ...]

    @property
    def answer_target(self) -> Target | None:
        return next((t for t in self.targets if t.role == "answer"), None)

    @property
    def notes_target(self) -> Target | None:
        return next((t for t in self.targets if t.role == "notes"), None)


@dataclass(frozen=True, slots=True)
class DraftRecord:
    id: int
    question_id: int
    version: int
    status: AnswerStatus
    text: str
    stance: str | None
    confidence: float
    reason: str
    citations: list[Citation]
    fill: dict[str, str]
    answerer: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class JobProgress:
    total: int
    done: int
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return self.total - self.done


def _info(row: QuestionnaireRow) -> QuestionnaireInfo:
    return QuestionnaireInfo(row.id, row.workspace, row.name, row.source_path, row.source_hash,
                             row.format, dict(row.options), dict(row.layout), row.question_count,
                             row.created_at, row.finished_at)


def _question(row: QuestionRow) -> QuestionRecord:
    return QuestionRecord(row.id, row.ordinal, row.key, row.qid, row.text, tuple(row.section),
                          row.location, tuple(Target.from_json(t) for t in row.targets))


def _citation_json(c: Citation) -> dict[str, object]:
    return {"chunk_id": c.chunk_id, "source_path": c.source_path, "location": c.location,
            "quote": c.quote}


def _draft(row: DraftRow) -> DraftRecord:
    citations = [Citation(int(c["chunk_id"]), str(c["source_path"]),  # type: ignore[call-overload]
                          str(c["location"]), str(c["quote"])) for c in row.citations]
    return DraftRecord(row.id, row.question_id, row.version, AnswerStatus(row.status), row.text,
                       row.stance, row.confidence, row.reason, citations, dict(row.fill),
                       row.answerer, row.created_at)


class NewDraft(NamedTuple):
    """A job draft to save: the question, its answer, the cells it fills, who drafted it."""

    question_id: int
    answer: Answer
    fill: dict[str, str]
    answerer: str


def _draft_row(draft: NewDraft) -> DraftRow:
    answer = draft.answer
    return DraftRow(question_id=draft.question_id, version=1, status=answer.status.value,
                    text=answer.text, stance=answer.stance, confidence=answer.confidence,
                    reason=answer.reason,
                    citations=[_citation_json(c) for c in answer.citations], fill=draft.fill,
                    answerer=draft.answerer)


class QuestionnaireStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc

    # --- questionnaires ---------------------------------------------------------------------

    def find(self, workspace: str, job_key: str) -> QuestionnaireInfo | None:
        with self._sessions() as session:
            row = session.scalar(select(QuestionnaireRow).where(
                QuestionnaireRow.workspace == workspace, QuestionnaireRow.job_key == job_key))
            return _info(row) if row else None

    def get(self, workspace: str, questionnaire_id: int) -> QuestionnaireInfo:
        with self._sessions() as session:
            row = session.get(QuestionnaireRow, questionnaire_id)
            if row is None or row.workspace != workspace:
                raise DDQError(ErrorCode.NOT_FOUND,
                               f"no questionnaire {questionnaire_id} in workspace {workspace!r}")
            return _info(row)

    def latest(self, workspace: str, source_hash: str | None = None) -> QuestionnaireInfo | None:
        query = select(QuestionnaireRow).where(QuestionnaireRow.workspace == workspace)
        if source_hash is not None:
            query = query.where(QuestionnaireRow.source_hash == source_hash)
        with self._sessions() as session:
            row = session.scalar(query.order_by(QuestionnaireRow.id.desc()).limit(1))
            return _info(row) if row else None

    def all(self, workspace: str) -> list[QuestionnaireInfo]:
        with self._sessions() as session:
            rows = session.scalars(select(QuestionnaireRow).where(
                QuestionnaireRow.workspace == workspace).order_by(QuestionnaireRow.id))
            return [_info(r) for r in rows]

    def create(self, *, workspace: str, job_key: str, name: str, source_path: str,
               source_hash: str, format: str, options: dict[str, Any], layout: dict[str, Any],
               questions: Sequence[ExtractedQuestion]) -> tuple[QuestionnaireInfo, bool]:
        """Store a questionnaire and its questions in one transaction; (info, created).

        When the same job already exists (same file and options), it is returned as is: two
        processes racing to create it end with one row, the loser reading the winner's.
        """
        existing = self.find(workspace, job_key)
        if existing is not None:
            return existing, False
        try:
            with self._write() as session:
                row = QuestionnaireRow(workspace=workspace, job_key=job_key, name=name,
                                       source_path=source_path, source_hash=source_hash,
                                       format=format, options=options, layout=layout,
                                       question_count=len(questions))
                session.add(row)
                session.flush()
                session.add_all(
                    QuestionRow(questionnaire_id=row.id, ordinal=n, key=q.key, qid=q.qid,
                                text=q.text, section=list(q.section), location=q.location,
                                targets=[t.to_json() for t in q.targets])
                    for n, q in enumerate(questions)
                )
                session.add(AuditRow(workspace=workspace, actor="ddq",
                                     action="questionnaire.created", subject=name,
                                     detail={"questions": len(questions),
                                             "source": source_path}))
                session.flush()
                info = _info(row)
        except IntegrityError:
            found = self.find(workspace, job_key)
            if found is None:
                raise
            return found, False
        return info, True

    def delete(self, questionnaire_id: int) -> None:
        """Delete a job with its questions and drafts (to answer the file afresh)."""
        with self._write() as session:
            row = session.get(QuestionnaireRow, questionnaire_id)
            if row is None:
                return
            question_ids = select(QuestionRow.id).where(
                QuestionRow.questionnaire_id == questionnaire_id)
            session.execute(delete(DraftRow).where(DraftRow.question_id.in_(question_ids)))
            session.execute(delete(QuestionRow).where(
                QuestionRow.questionnaire_id == questionnaire_id))
            session.add(AuditRow(workspace=row.workspace, actor="ddq",
                                 action="questionnaire.deleted", subject=row.name,
                                 detail={"questionnaire_id": questionnaire_id}))
            session.delete(row)

    def questions(self, questionnaire_id: int) -> list[QuestionRecord]:
        with self._sessions() as session:
            rows = session.scalars(select(QuestionRow).where(
                QuestionRow.questionnaire_id == questionnaire_id).order_by(QuestionRow.ordinal))
            return [_question(r) for r in rows]

    def pending(self, questionnaire_id: int) -> list[QuestionRecord]:
        """Questions with no draft yet, in file order."""
        answered = select(DraftRow.question_id).where(DraftRow.version == 1)
        with self._sessions() as session:
            rows = session.scalars(select(QuestionRow).where(
                QuestionRow.questionnaire_id == questionnaire_id,
                QuestionRow.id.not_in(answered)).order_by(QuestionRow.ordinal))
            return [_question(r) for r in rows]

    # --- drafts ---------------------------------------------------------------------------

    def save_drafts(self, drafts: Sequence[NewDraft]) -> list[bool]:
        """Commit the drafts a batch made, in one transaction: all of them or none, so a
        killed job redoes the batch rather than half of it. A question that already has its
        job draft (a second process got there first) keeps that draft; the batch is then
        saved draft by draft and the result says, per draft, whether it was saved."""
        if not drafts:
            return []
        try:
            with self._write() as session:
                session.add_all([_draft_row(d) for d in drafts])
        except IntegrityError:
            if len(drafts) == 1:
                return [False]
            return [self.save_drafts([d])[0] for d in drafts]
        return [True] * len(drafts)

    def finish(self, questionnaire_id: int) -> None:
        with self._write() as session:
            row = session.get(QuestionnaireRow, questionnaire_id)
            if row is not None and row.finished_at is None:
                row.finished_at = utcnow()
                session.add(AuditRow(workspace=row.workspace, actor="ddq",
                                     action="questionnaire.answered", subject=row.name,
                                     detail={"questions": row.question_count}))

    def drafts(self, questionnaire_id: int) -> dict[int, DraftRecord]:
        """The newest draft of each question that has one, by question id."""
        with self._sessions() as session:
            rows = session.scalars(
                select(DraftRow).join(QuestionRow, QuestionRow.id == DraftRow.question_id)
                .where(QuestionRow.questionnaire_id == questionnaire_id)
                .order_by(DraftRow.question_id, DraftRow.version))
            return {r.question_id: _draft(r) for r in rows}

    def draft_counts(self, questionnaire_id: int) -> dict[int, int]:
        """How many job drafts (version 1) each question has: 0 or 1, by construction."""
        with self._sessions() as session:
            rows = session.execute(
                select(QuestionRow.id, func.count(DraftRow.id))
                .outerjoin(DraftRow, (DraftRow.question_id == QuestionRow.id)
                           & (DraftRow.version == 1))
                .where(QuestionRow.questionnaire_id == questionnaire_id)
                .group_by(QuestionRow.id))
            return {int(q): int(n) for q, n in rows}

    def progress(self, questionnaire_id: int) -> JobProgress:
        with self._sessions() as session:
            total = int(session.scalar(select(func.count()).select_from(QuestionRow).where(
                QuestionRow.questionnaire_id == questionnaire_id)) or 0)
            rows = session.execute(
                select(DraftRow.status, func.count())
                .join(QuestionRow, QuestionRow.id == DraftRow.question_id)
                .where(QuestionRow.questionnaire_id == questionnaire_id, DraftRow.version == 1)
                .group_by(DraftRow.status))
            by_status = {str(s): int(n) for s, n in rows}
        return JobProgress(total=total, done=sum(by_status.values()), by_status=by_status)
