"""The service's side of questionnaires: job state with claiming, and the review of drafts.

**Jobs.** A questionnaire the service answers is ``queued`` until a worker claims it. Claiming
is a compare-and-set on the row (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, then an
``UPDATE ... WHERE state = 'queued'``), so several service processes sharing one database never
run the same job twice. A running job's worker writes a heartbeat; a job whose heartbeat is
stale (its process died) is claimed again, and resumes where its drafts stop.

**Review.** Each question has a review status (pending, edited, approved, rejected), an
assignee and a ``row_version``. Every review action names the version it saw; an update
``WHERE row_version = seen`` that changes no row means someone else acted first: the caller
gets a conflict and nothing is lost. An edit is a new draft version (the job's draft stays).
Every action is in the audit trail with what was there before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from ddq.domain import Answer
from ddq.errors import DDQError, ErrorCode
from ddq.store.questionnaires import _citation_json
from ddq.store.schema import (
    AuditRow,
    DraftRow,
    QuestionnaireRow,
    QuestionRow,
    as_utc,
    utcnow,
)


class JobState(StrEnum):
    IDLE = "idle"  # made by the CLI, or uploaded and not started
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    EDITED = "edited"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReviewAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"
    REASSIGN = "reassign"


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    question_id: int
    status: ReviewStatus
    assignee: str | None
    version: int
    reviewed_by: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True, slots=True)
class JobStatus:
    state: JobState
    error: str | None
    claimed_by: str | None
    heartbeat_at: datetime | None


class ReviewStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # --- jobs -------------------------------------------------------------------------------

    def job(self, questionnaire_id: int) -> JobStatus:
        with self._sessions() as session:
            row = session.get(QuestionnaireRow, questionnaire_id)
            if row is None:
                raise DDQError(ErrorCode.NOT_FOUND, f"no questionnaire {questionnaire_id}")
            return JobStatus(JobState(row.state), row.error, row.claimed_by,
                             as_utc(row.heartbeat_at) if row.heartbeat_at else None)

    def set_state(self, questionnaire_id: int, state: JobState, *, allowed_from: set[JobState],
                  actor: str) -> bool:
        """Move a job to ``state`` if it is in one of ``allowed_from``; False otherwise."""
        with self._sessions.begin() as session:
            row = session.get(QuestionnaireRow, questionnaire_id)
            if row is None or JobState(row.state) not in allowed_from:
                return False
            before = row.state
            row.state = state.value
            if state is JobState.QUEUED:
                row.error = None
            session.add(AuditRow(workspace=row.workspace, actor=actor, at=utcnow(),
                                 action=f"questionnaire.{state.value}", subject=row.name,
                                 detail={"questionnaire_id": row.id, "before": before,
                                         "after": state.value}))
            return True

    def queue(self, questionnaire_id: int, *, actor: str) -> bool:
        """Queue (or resume) a job that is not started, paused or failed."""
        return self.set_state(questionnaire_id, JobState.QUEUED, actor=actor,
                              allowed_from={JobState.IDLE, JobState.PAUSED, JobState.FAILED})

    def pause(self, questionnaire_id: int, *, actor: str) -> bool:
        """Pause a queued or running job (a running one stops after its batch in flight)."""
        return self.set_state(questionnaire_id, JobState.PAUSED, actor=actor,
                              allowed_from={JobState.QUEUED, JobState.RUNNING})

    def claim(self, worker: str, *, stale_after_s: float) -> tuple[int, str] | None:
        """Claim one queued job, or one whose worker stopped beating; (id, workspace)."""
        now = utcnow()
        stale = now - timedelta(seconds=stale_after_s)
        with self._sessions.begin() as session:
            candidate = session.execute(
                select(QuestionnaireRow.id, QuestionnaireRow.workspace, QuestionnaireRow.state,
                       QuestionnaireRow.heartbeat_at)
                .where((QuestionnaireRow.state == JobState.QUEUED.value)
                       | ((QuestionnaireRow.state == JobState.RUNNING.value)
                          & (QuestionnaireRow.heartbeat_at < stale)))
                .order_by(QuestionnaireRow.id).limit(1)
                .with_for_update(skip_locked=True)).first()
            if candidate is None:
                return None
            seen = (QuestionnaireRow.heartbeat_at.is_(None) if candidate.heartbeat_at is None
                    else QuestionnaireRow.heartbeat_at == candidate.heartbeat_at)
            won = session.execute(
                update(QuestionnaireRow)
                .where(QuestionnaireRow.id == candidate.id,
                       QuestionnaireRow.state == candidate.state, seen)
                .values(state=JobState.RUNNING.value, claimed_by=worker, heartbeat_at=now,
                        error=None)).rowcount  # type: ignore[attr-defined]
            return (int(candidate.id), str(candidate.workspace)) if won == 1 else None

    def heartbeat(self, questionnaire_id: int, worker: str) -> bool:
        """Beat; False when the job is no longer this worker's to run (paused, taken)."""
        with self._sessions.begin() as session:
            done = session.execute(
                update(QuestionnaireRow)
                .where(QuestionnaireRow.id == questionnaire_id,
                       QuestionnaireRow.state == JobState.RUNNING.value,
                       QuestionnaireRow.claimed_by == worker)
                .values(heartbeat_at=utcnow())).rowcount  # type: ignore[attr-defined]
            return bool(done == 1)

    def release(self, questionnaire_id: int, worker: str, state: JobState,
                error: str | None = None) -> bool:
        """End this worker's run: done, failed, or back to queued (a clean shutdown)."""
        with self._sessions.begin() as session:
            done = session.execute(
                update(QuestionnaireRow)
                .where(QuestionnaireRow.id == questionnaire_id,
                       QuestionnaireRow.state == JobState.RUNNING.value,
                       QuestionnaireRow.claimed_by == worker)
                .values(state=state.value, claimed_by=None, error=error,
                        heartbeat_at=None)).rowcount  # type: ignore[attr-defined]
            return bool(done == 1)

    # --- review -----------------------------------------------------------------------------

    def reviews(self, questionnaire_id: int) -> dict[int, ReviewRecord]:
        with self._sessions() as session:
            rows = session.scalars(select(QuestionRow).where(
                QuestionRow.questionnaire_id == questionnaire_id))
            return {r.id: _review(r) for r in rows}

    def review(self, *, workspace: str, questionnaire_id: int, question_id: int,
               action: ReviewAction, seen_version: int, actor: str,
               assignee: str | None = None,
               edited: tuple[Answer, dict[str, str]] | None = None) -> ReviewRecord:
        """Apply one review action if the question is still at ``seen_version``."""
        try:
            with self._sessions.begin() as session:
                row = session.get(QuestionRow, question_id)
                owner = session.get(QuestionnaireRow, questionnaire_id)
                if row is None or owner is None or row.questionnaire_id != questionnaire_id \
                        or owner.workspace != workspace:
                    raise DDQError(ErrorCode.NOT_FOUND, f"no question {question_id} in "
                                                        f"questionnaire {questionnaire_id}")
                latest = session.scalars(select(DraftRow).where(
                    DraftRow.question_id == question_id).order_by(DraftRow.version.desc())
                ).first()
                if latest is None and action is not ReviewAction.REASSIGN:
                    raise DDQError(ErrorCode.INVALID_INPUT,
                                   "this question has no draft yet; wait for the job")
                if action is ReviewAction.APPROVE and latest is not None \
                        and latest.status == "needs_input":
                    raise DDQError(ErrorCode.INVALID_INPUT,
                                   "there is no answer to approve: edit it in first")
                values: dict[str, object] = {"row_version": row.row_version + 1}
                before = {"status": row.review_status, "assignee": row.assignee,
                          "text": latest.text if latest else None}
                after: dict[str, object] = {}
                if action is ReviewAction.REASSIGN:
                    values["assignee"] = assignee
                    after["assignee"] = assignee
                else:
                    status = {ReviewAction.APPROVE: ReviewStatus.APPROVED,
                              ReviewAction.REJECT: ReviewStatus.REJECTED,
                              ReviewAction.EDIT: ReviewStatus.EDITED}[action]
                    values.update(review_status=status.value, reviewed_by=actor,
                                  reviewed_at=utcnow())
                    after["status"] = status.value
                changed = session.execute(
                    update(QuestionRow)
                    .where(QuestionRow.id == question_id,
                           QuestionRow.row_version == seen_version)
                    .values(**values)).rowcount  # type: ignore[attr-defined]
                if changed != 1:
                    raise DDQError(ErrorCode.CONFLICT,
                                   f"question {question_id} was changed by someone else "
                                   f"(version {row.row_version}, you saw {seen_version}); "
                                   "reload it and try again")
                if action is ReviewAction.EDIT:
                    assert edited is not None and latest is not None
                    answer, fill = edited
                    session.add(DraftRow(
                        question_id=question_id, version=latest.version + 1,
                        status=answer.status.value, text=answer.text, stance=answer.stance,
                        confidence=answer.confidence, reason=answer.reason,
                        citations=[_citation_json(c) for c in answer.citations], fill=fill,
                        answerer=actor[:128]))
                    after["text"] = answer.text
                session.add(AuditRow(workspace=workspace, actor=actor, at=utcnow(),
                                     action=f"draft.{action.value}", subject=row.text[:1024],
                                     detail={"questionnaire_id": questionnaire_id,
                                             "question_id": question_id, "before": before,
                                             "after": after}))
                session.flush()
                session.refresh(row)
                return _review(row)
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc

    def bulk_approve(self, *, workspace: str, questionnaire_id: int, min_confidence: float,
                     actor: str) -> list[int]:
        """Approve every pending question whose newest draft is an answer (not "needs
        input") with at least ``min_confidence``; returns their ids."""
        newest = (select(DraftRow.question_id, func.max(DraftRow.version).label("v"))
                  .group_by(DraftRow.question_id).subquery())
        with self._sessions.begin() as session:
            owner = session.get(QuestionnaireRow, questionnaire_id)
            if owner is None or owner.workspace != workspace:
                raise DDQError(ErrorCode.NOT_FOUND, f"no questionnaire {questionnaire_id}")
            ids = [int(i) for i in session.scalars(
                select(QuestionRow.id)
                .join(newest, newest.c.question_id == QuestionRow.id)
                .join(DraftRow, (DraftRow.question_id == QuestionRow.id)
                      & (DraftRow.version == newest.c.v))
                .where(QuestionRow.questionnaire_id == questionnaire_id,
                       QuestionRow.review_status == ReviewStatus.PENDING.value,
                       DraftRow.status != "needs_input",
                       DraftRow.confidence >= min_confidence))]
            if not ids:
                return []
            session.execute(
                update(QuestionRow)
                .where(QuestionRow.id.in_(ids),
                       QuestionRow.review_status == ReviewStatus.PENDING.value)
                .values(review_status=ReviewStatus.APPROVED.value, reviewed_by=actor,
                        reviewed_at=utcnow(), row_version=QuestionRow.row_version + 1))
            session.add(AuditRow(workspace=workspace, actor=actor, at=utcnow(),
                                 action="draft.bulk_approve", subject=owner.name,
                                 detail={"questionnaire_id": questionnaire_id,
                                         "min_confidence": min_confidence,
                                         "question_ids": ids}))
            return ids


def _review(row: QuestionRow) -> ReviewRecord:
    return ReviewRecord(row.id, ReviewStatus(row.review_status), row.assignee, row.row_version,
                        row.reviewed_by, as_utc(row.reviewed_at) if row.reviewed_at else None)
