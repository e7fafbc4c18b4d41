"""Stale and expiry routes: approved answers whose sources changed since approval (old and
new passage side by side), each document's validity, and a document's validity set by hand
(the API field; ``ddq validity`` on the command line)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ddq.api.auth import Caller, require, workspace_kb
from ddq.api.errors import ErrorBody, RequestBody, RowId
from ddq.errors import DDQError, ErrorCode
from ddq.store.keys import Role
from ddq.store.trust import TrustStore
from ddq.trust.expiry import validities
from ddq.trust.settings import trust_settings
from ddq.trust.stale import stale_answers

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422, 503)
}


class PassageChangeOut(BaseModel):
    chunk_id: int
    source_path: str
    location: str
    kind: str = Field(description="changed, removed, or document removed")
    before: str
    after: str | None
    changed_at: str | None


class StaleAnswerOut(BaseModel):
    subject: str = Field(description="draft (an approved questionnaire answer) or library")
    id: int = Field(description="The question's id, or the library entry's")
    label: str
    question: str
    answer: str
    questionnaire_id: int | None
    qid: str | None
    approved_by: str | None
    approved_at: str | None
    changes: list[PassageChangeOut]


class ValidityOut(BaseModel):
    document_id: int
    source_path: str
    title: str
    valid_until: date | None
    kind: str = Field(description="stated, soc_report, pentest or manual; empty: none")
    basis: str
    origin: str
    problem: str | None
    state: str = Field(description="valid, expiring, expired, unreadable or none")


class StaleOut(BaseModel):
    today: date
    warning_days: int
    source_changed: list[StaleAnswerOut]
    evidence: list[ValidityOut]


class ValidityIn(RequestBody):
    valid_until: date | None = Field(
        description="The last day the document is valid evidence; null: forget the date set "
        "by hand (its own words count again)."
    )
    note: str = Field(default="", max_length=500)


def router() -> APIRouter:
    api = APIRouter(prefix="/api", tags=["stale"], responses=ERRORS)
    viewer = Depends(require(Role.VIEWER))
    approver = Depends(require(Role.APPROVER))

    @api.get(
        "/stale",
        response_model=StaleOut,
        summary="Approved answers whose cited passages changed since approval, and evidence "
        "that expired, expires within the warning window or has an unreadable validity",
    )
    def stale(
        request: Request,
        caller: Caller = viewer,
        today: date | None = None,
        warn_days: int | None = Query(default=None, ge=0, le=3650),
        every: bool = Query(default=False, description="Every document with a validity"),
    ) -> StaleOut:
        kb = workspace_kb(request, caller)
        settings = trust_settings(today=today, expiry_warning_days=warn_days)
        day = settings.current_date()
        flags = stale_answers(kb.store.engine, kb.workspace)
        found = validities(kb.store.engine, kb.workspace, settings)
        evidence = [v.to_json(day, settings.expiry_warning_days) for v in found.values()]
        return StaleOut(
            today=day,
            warning_days=settings.expiry_warning_days,
            source_changed=[StaleAnswerOut(**f.to_json()) for f in flags],  # type: ignore[arg-type]
            evidence=[
                ValidityOut(**e)  # type: ignore[arg-type]
                for e in evidence
                if every or e["state"] != "valid"
            ],
        )

    @api.put(
        "/documents/{document_id}/validity",
        response_model=ValidityOut,
        summary="Set (or clear) how long this version of a document is valid evidence",
    )
    def set_validity(
        document_id: RowId, body: ValidityIn, request: Request, caller: Caller = approver
    ) -> ValidityOut:
        kb = workspace_kb(request, caller)
        info = next((d for d in kb.store.documents(kb.workspace) if d.id == document_id), None)
        if info is None:
            raise DDQError(ErrorCode.NOT_FOUND, f"no document {document_id}")
        TrustStore(kb.store.engine).set_validity(
            workspace=kb.workspace,
            source_path=info.source_path,
            content_hash=info.content_hash,
            valid_until=body.valid_until,
            note=body.note if body.valid_until is not None else "",
            actor=caller.actor,
        )
        settings = trust_settings()
        found = validities(kb.store.engine, kb.workspace, settings, [info.id]).get(info.id)
        if found is None:
            return ValidityOut(
                document_id=info.id,
                source_path=info.source_path,
                title=info.title,
                valid_until=None,
                kind="",
                basis="",
                origin="",
                problem=None,
                state="none",
            )
        data = found.to_json(settings.current_date(), settings.expiry_warning_days)
        return ValidityOut(**data)  # type: ignore[arg-type]

    return api


def changed_in(kb: Any, questionnaire_id: int) -> dict[int, dict[str, object]]:
    """The review page's "source changed" badges: the approved questions of one
    questionnaire whose cited passages changed since approval, by question id."""
    return {
        f.id: f.to_json()
        for f in stale_answers(kb.store.engine, kb.workspace)
        if f.subject == "draft" and f.questionnaire_id == questionnaire_id
    }


def validity_by_document(kb: Any) -> dict[int, dict[str, object]]:
    """The Knowledge page's validity column: each document's validity and state today."""
    settings = trust_settings()
    day = settings.current_date()
    found = validities(kb.store.engine, kb.workspace, settings)
    return {d: v.to_json(day, settings.expiry_warning_days) for d, v in found.items()}
