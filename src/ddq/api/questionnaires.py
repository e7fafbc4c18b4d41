"""Questionnaire and review routes: upload a questionnaire, see its questions and the job's
progress, start and pause the job, review each draft (approve, reject, edit, reassign, with
optimistic concurrency), bulk-approve above a confidence, and download the answered file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import AfterValidator, BaseModel, Field

from ddq.answer.text import leading_verdict
from ddq.api.auth import Caller, require, workspace_kb
from ddq.api.errors import MAX_INT, ErrorBody, RequestBody, RowId
from ddq.api.knowledge import public_name, receive
from ddq.api.library import approved_to_library
from ddq.domain import Answer, AnswerStatus
from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractOptions
from ddq.jobs.export import export_answers
from ddq.jobs.job import QuestionnaireJob, fill_for
from ddq.kb import KnowledgeBase
from ddq.questionnaire.files import SUPPORTED_QUESTIONNAIRES
from ddq.store.keys import Role
from ddq.store.questionnaires import QuestionnaireInfo, QuestionnaireStore
from ddq.store.review import JobState, ReviewAction, ReviewStore
from ddq.store.schema import as_utc
from ddq.trust.consistency import CheckReport, check_items, job_items
from ddq.trust.provenance import load_key

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 415, 422, 503)
}


Timestamp = Annotated[datetime, AfterValidator(as_utc)]


class Progress(BaseModel):
    total: int
    drafted: int
    by_status: dict[str, int]
    reviewed: dict[str, int]


class QuestionnaireOut(BaseModel):
    id: int
    name: str
    format: str
    questions: int
    state: str
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    progress: Progress


class CitationOut(BaseModel):
    chunk_id: int
    source: str
    location: str
    quote: str


class DraftOut(BaseModel):
    version: int
    status: str
    text: str
    stance: str | None
    confidence: float
    reason: str
    drafted_by: str
    citations: list[CitationOut]


class ReviewOut(BaseModel):
    status: str
    assignee: str | None
    version: int
    reviewed_by: str | None
    reviewed_at: Timestamp | None


class QuestionOut(BaseModel):
    id: int
    qid: str | None
    section: list[str]
    text: str
    location: str
    draft: DraftOut | None
    review: ReviewOut


class ReviewBody(RequestBody):
    action: Literal["approve", "reject", "edit", "reassign"]
    #: The review version the reviewer saw (``review.version``): a stale one is a 409.
    version: int = Field(ge=0, le=MAX_INT)
    text: str | None = Field(default=None, max_length=20_000)
    assignee: str | None = Field(default=None, max_length=128)


class BulkApproveBody(RequestBody):
    min_confidence: float = Field(ge=0.0, le=1.0)


def _stores(kb: KnowledgeBase) -> tuple[QuestionnaireStore, ReviewStore]:
    return QuestionnaireStore(kb.store.engine), ReviewStore(kb.store.engine)


def _out(kb: KnowledgeBase, info: QuestionnaireInfo) -> QuestionnaireOut:
    store, reviews = _stores(kb)
    job = reviews.job(info.id)
    progress = store.progress(info.id)
    reviewed: dict[str, int] = {}
    for record in reviews.reviews(info.id).values():
        reviewed[record.status.value] = reviewed.get(record.status.value, 0) + 1
    return QuestionnaireOut(
        id=info.id, name=info.name, format=info.format, questions=info.question_count,
        state=job.state.value, error=job.error, created_at=info.created_at,
        finished_at=info.finished_at,
        progress=Progress(total=progress.total, drafted=progress.done,
                          by_status=progress.by_status, reviewed=reviewed))


def _info(kb: KnowledgeBase, questionnaire_id: int) -> QuestionnaireInfo:
    # get() is scoped to the workspace: another workspace's id is "not found".
    return QuestionnaireStore(kb.store.engine).get(kb.workspace, questionnaire_id)


def questionnaires_dir(kb: KnowledgeBase) -> Path:
    return (kb.settings.home / "questionnaires" / kb.workspace).resolve()


def router() -> APIRouter:
    api = APIRouter(prefix="/api/questionnaires", tags=["questionnaires"], responses=ERRORS)
    viewer = Depends(require(Role.VIEWER))
    editor = Depends(require(Role.EDITOR))
    approver = Depends(require(Role.APPROVER))

    @api.post("", response_model=QuestionnaireOut, status_code=201,
              summary="Upload a questionnaire; its questions are extracted and, unless "
                      "start=false, the answering job is queued")
    async def upload(request: Request, file: UploadFile, start: bool = True,
                     caller: Caller = editor) -> QuestionnaireOut:
        kb = workspace_kb(request, caller)
        name = Path(file.filename or "").name
        if Path(name).suffix.lower() not in SUPPORTED_QUESTIONNAIRES:
            known = ", ".join(sorted(SUPPORTED_QUESTIONNAIRES))
            raise DDQError(ErrorCode.UNSUPPORTED_FORMAT,
                           f"{name or 'the file'}: not a questionnaire ({known})")
        folder = questionnaires_dir(kb)
        temporary = await receive(file, folder, int(kb.settings.max_upload_mb * 1024 * 1024))
        try:
            info = await run_in_threadpool(_register, kb, temporary, folder, name, caller)
        finally:
            temporary.unlink(missing_ok=True)
        if start:
            ReviewStore(kb.store.engine).queue(info.id, actor=caller.actor)
            request.app.state.worker.wake()
        return _out(kb, info)

    @api.get("", response_model=list[QuestionnaireOut], summary="Questionnaires of the workspace")
    def list_all(request: Request, caller: Caller = viewer) -> list[QuestionnaireOut]:
        kb = workspace_kb(request, caller)
        return [_out(kb, info) for info in QuestionnaireStore(kb.store.engine).all(kb.workspace)]

    @api.get("/{questionnaire_id}", response_model=QuestionnaireOut,
             summary="One questionnaire, its job state and progress")
    def one(questionnaire_id: RowId, request: Request, caller: Caller = viewer
            ) -> QuestionnaireOut:
        kb = workspace_kb(request, caller)
        return _out(kb, _info(kb, questionnaire_id))

    @api.post("/{questionnaire_id}/start", response_model=QuestionnaireOut,
              summary="Queue (or resume) the answering job")
    def start_job(questionnaire_id: RowId, request: Request, caller: Caller = editor
                  ) -> QuestionnaireOut:
        kb = workspace_kb(request, caller)
        info = _info(kb, questionnaire_id)
        moved = ReviewStore(kb.store.engine).queue(info.id, actor=caller.actor)
        if not moved and ReviewStore(kb.store.engine).job(info.id).state is JobState.DONE:
            raise DDQError(ErrorCode.CONFLICT, "every question is drafted already")
        request.app.state.worker.wake()
        return _out(kb, info)

    @api.post("/{questionnaire_id}/pause", response_model=QuestionnaireOut,
              summary="Pause the job after the batch in flight")
    def pause_job(questionnaire_id: RowId, request: Request, caller: Caller = editor
                  ) -> QuestionnaireOut:
        kb = workspace_kb(request, caller)
        info = _info(kb, questionnaire_id)
        moved = ReviewStore(kb.store.engine).pause(info.id, actor=caller.actor)
        if not moved:
            raise DDQError(ErrorCode.CONFLICT, "the job is not queued or running")
        return _out(kb, info)

    @api.get("/{questionnaire_id}/questions", response_model=list[QuestionOut],
             summary="The extracted questions with their newest draft and review state")
    def questions(questionnaire_id: RowId, request: Request, caller: Caller = viewer,
                  status: str | None = None, min_confidence: float | None = None,
                  max_confidence: float | None = None) -> list[QuestionOut]:
        kb = workspace_kb(request, caller)
        info = _info(kb, questionnaire_id)
        store, reviews = _stores(kb)
        drafts = store.drafts(info.id)
        states = reviews.reviews(info.id)
        out = []
        for q in store.questions(info.id):
            d = drafts.get(q.id)
            r = states[q.id]
            if status and status not in (r.status.value, d.status.value if d else "undrafted"):
                continue
            if min_confidence is not None and (d is None or d.confidence < min_confidence):
                continue
            if max_confidence is not None and (d is None or d.confidence > max_confidence):
                continue
            draft = None if d is None else DraftOut(
                version=d.version, status=d.status.value, text=d.text, stance=d.stance,
                confidence=d.confidence, reason=d.reason, drafted_by=d.answerer,
                citations=[CitationOut(chunk_id=c.chunk_id,
                                       source=public_name(kb, c.source_path),
                                       location=c.location, quote=c.quote)
                           for c in d.citations])
            out.append(QuestionOut(
                id=q.id, qid=q.qid, section=list(q.section), text=q.text, location=q.location,
                draft=draft, review=ReviewOut(status=r.status.value, assignee=r.assignee,
                                              version=r.version, reviewed_by=r.reviewed_by,
                                              reviewed_at=r.reviewed_at)))
        return out

    @api.post("/{questionnaire_id}/questions/{question_id}/review", response_model=ReviewOut,
              summary="Approve, reject, edit or reassign a draft (409 if it changed since "
                      "you read it)")
    def review(questionnaire_id: RowId, question_id: RowId, body: ReviewBody, request: Request,
               caller: Caller = editor) -> ReviewOut:
        kb = workspace_kb(request, caller)
        info = _info(kb, questionnaire_id)
        action = ReviewAction(body.action)
        if action in (ReviewAction.APPROVE, ReviewAction.REJECT) and caller.role < Role.APPROVER:
            raise DDQError(ErrorCode.FORBIDDEN, f"to {action.value} needs the approver role; "
                                                f"the key is {caller.role.label}")
        edited = None
        if action is ReviewAction.EDIT:
            if not body.text or not body.text.strip():
                raise DDQError(ErrorCode.INVALID_INPUT, "text: an edit needs the new text")
            edited = _edited(kb, info, question_id, body.text.strip(), caller)
        if action is ReviewAction.REASSIGN and not (body.assignee or "").strip():
            raise DDQError(ErrorCode.INVALID_INPUT, "assignee: a reassignment needs a name")
        record = ReviewStore(kb.store.engine).review(
            workspace=kb.workspace, questionnaire_id=info.id, question_id=question_id,
            action=action, seen_version=body.version, actor=caller.actor,
            assignee=(body.assignee or "").strip() or None, edited=edited)
        if action is ReviewAction.APPROVE:
            approved_to_library(kb, info.id, [question_id], caller.actor,
                                request.app.state.write_lock)
        return ReviewOut(status=record.status.value, assignee=record.assignee,
                         version=record.version, reviewed_by=record.reviewed_by,
                         reviewed_at=record.reviewed_at)

    @api.post("/{questionnaire_id}/bulk-approve", summary="Approve every pending answered "
                                                          "draft at or above a confidence")
    def bulk_approve(questionnaire_id: RowId, body: BulkApproveBody, request: Request,
                     caller: Caller = approver) -> dict[str, int]:
        kb = workspace_kb(request, caller)
        info = _info(kb, questionnaire_id)
        ids = ReviewStore(kb.store.engine).bulk_approve(
            workspace=kb.workspace, questionnaire_id=info.id,
            min_confidence=body.min_confidence, actor=caller.actor)
        added = approved_to_library(kb, info.id, ids, caller.actor,
                                    request.app.state.write_lock)
        return {"approved": len(ids), "added_to_library": added}

    @api.get("/{questionnaire_id}/export", summary="The answered file (a copy of the upload "
                                                   "with the newest drafts written in)")
    def export(questionnaire_id: RowId, request: Request, caller: Caller = viewer,
               require_consistent: bool = False) -> FileResponse:
        kb = workspace_kb(request, caller)
        info = _info(kb, questionnaire_id)
        if require_consistent and (found := consistency_of(kb, info).findings):
            raise DDQError(ErrorCode.CONFLICT, f"{len(found)} contradictions between the "
                           "answers; see GET .../consistency")
        out_dir = Path(tempfile.mkdtemp(prefix="ddq-export-"))
        stem, suffix = os.path.splitext(info.name)
        result = export_answers(QuestionnaireStore(kb.store.engine), info,
                                out_dir / f"{stem}-answered{suffix}",
                                provenance_key=load_key(kb.settings.home))
        with kb.store.transaction() as tx:
            tx.audit(workspace=kb.workspace, actor=caller.actor, action="questionnaire.exported",
                     subject=info.name, detail={"questionnaire_id": info.id,
                                                "cells_written": result.written})
        return FileResponse(result.path, filename=result.path.name,
                            background=_cleanup(out_dir))

    @api.get("/{questionnaire_id}/consistency", summary="Contradictions between the drafts "
             "(near-duplicate questions, one fact with two values, one passage for Yes and No)")
    def consistency(questionnaire_id: RowId, request: Request, caller: Caller = viewer
                    ) -> dict[str, Any]:
        kb = workspace_kb(request, caller)
        return consistency_of(kb, _info(kb, questionnaire_id)).to_json()

    @api.get("/{questionnaire_id}/report", summary="The review report: each question, "
                                                   "answer, confidence, status, citations")
    def report(questionnaire_id: RowId, request: Request, caller: Caller = viewer,
               format: Literal["html", "csv"] = "html") -> FileResponse:
        kb = workspace_kb(request, caller)
        info = _info(kb, questionnaire_id)
        out_dir = Path(tempfile.mkdtemp(prefix="ddq-report-"))
        stem, suffix = os.path.splitext(info.name)
        result = export_answers(QuestionnaireStore(kb.store.engine), info,
                                out_dir / f"{stem}-answered{suffix}")
        path = result.html_report if format == "html" else result.csv_report
        media = "text/html; charset=utf-8" if format == "html" else "text/csv; charset=utf-8"
        return FileResponse(path, filename=f"{stem}-report.{format}", media_type=media,
                            background=_cleanup(out_dir))

    return api


def consistency_of(kb: KnowledgeBase, info: QuestionnaireInfo) -> CheckReport:
    return check_items(job_items(QuestionnaireStore(kb.store.engine), info.id), kb.embedder)


def _register(kb: KnowledgeBase, temporary: Path, folder: Path, name: str,
              caller: Caller) -> QuestionnaireInfo:
    """Keep the upload under its content hash and open (or find) its job."""
    digest = hashlib.sha256(temporary.read_bytes()).hexdigest()
    final = folder / digest[:16] / name  # the file keeps its name: the download is named so
    if not final.exists():
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(temporary, final)
    job = QuestionnaireJob(kb, batch_size=kb.settings.answer_batch_size)
    try:
        try:
            info, created = job.open(final, ExtractOptions())
        except DDQError:
            raise
        except Exception as exc:  # a reader's own error on content the safe-open layer let by
            raise DDQError(ErrorCode.UNREADABLE_FILE,
                           f"{name}: not a readable questionnaire "
                           f"({type(exc).__name__})") from exc
    except DDQError:
        if not any(i.source_path == str(final)
                   for i in QuestionnaireStore(kb.store.engine).all(kb.workspace)):
            final.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                final.parent.rmdir()  # the hash folder, when nothing else is in it
        raise
    if created:
        with kb.store.transaction() as tx:
            tx.audit(workspace=kb.workspace, actor=caller.actor, action="questionnaire.uploaded",
                     subject=name, detail={"questionnaire_id": info.id,
                                           "questions": info.question_count})
    return info


def _edited(kb: KnowledgeBase, info: QuestionnaireInfo, question_id: int, text: str,
            caller: Caller) -> tuple[Answer, dict[str, str]]:
    """The edited answer as a draft: the reviewer's text, the citations of the draft it
    replaces, and the cell values it fills."""
    store = QuestionnaireStore(kb.store.engine)
    question = next((q for q in store.questions(info.id) if q.id == question_id), None)
    if question is None:
        raise DDQError(ErrorCode.NOT_FOUND, f"no question {question_id} in questionnaire "
                                            f"{info.id}")
    previous = store.drafts(info.id).get(question_id)
    answer = Answer(question.text, AnswerStatus.ANSWERED, text, 1.0,
                    f"edited by {caller.actor}", previous.citations if previous else [],
                    leading_verdict(text), drafted_by=caller.actor)
    return answer, fill_for(question, answer)


def _cleanup(folder: Path) -> Any:
    from starlette.background import BackgroundTask

    return BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
