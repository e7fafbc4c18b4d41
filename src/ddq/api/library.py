"""Library routes: list (with stale, near-duplicate and conflict flags), create, read, edit
(optimistic concurrency) and retire entries of the managed answer library; and the flow
of approved review answers back into it. Every change re-indexes the approved entries
(known text comes from the embedding cache, so that costs one embedding per new entry)."""

from __future__ import annotations

import threading
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ddq.api.auth import Caller, require, workspace_kb
from ddq.api.errors import MAX_INT, ErrorBody, RequestBody, RowId
from ddq.errors import DDQError, ErrorCode
from ddq.ingest.pipeline import IngestItem
from ddq.kb import KnowledgeBase
from ddq.models.cache import CachedEmbedder
from ddq.store.keys import Role
from ddq.store.library import (
    ImportedEntry,
    LibraryItem,
    LibraryStatus,
    LibraryStore,
    flags,
    imported_entries,
    library_document,
    library_source,
)
from ddq.store.questionnaires import QuestionnaireStore

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422, 503)
}


class EntryIn(RequestBody):
    question: str = Field(min_length=1, max_length=4000)
    answer: str = Field(min_length=1, max_length=20_000)
    owner: str | None = Field(default=None, max_length=256)
    status: LibraryStatus = LibraryStatus.DRAFT
    tags: list[str] = Field(default_factory=list, max_length=20)
    last_reviewed: date | None = None
    review_by: date | None = None


class EntryPatch(RequestBody):
    version: int = Field(ge=0, le=MAX_INT)
    question: str | None = Field(default=None, min_length=1, max_length=4000)
    answer: str | None = Field(default=None, min_length=1, max_length=20_000)
    owner: str | None = Field(default=None, max_length=256)
    status: LibraryStatus | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    last_reviewed: date | None = None
    review_by: date | None = None


class EntryOut(BaseModel):
    id: int
    question: str
    answer: str
    owner: str | None
    status: str
    tags: list[str]
    last_reviewed: date | None
    review_by: date | None
    source: str
    provenance: dict[str, Any]
    version: int
    stale: bool
    duplicates: list[int]
    conflicts: list[int]
    #: An entry that came in with a file (an answer library, an answered questionnaire) is
    #: read-only: the file is its source, and re-ingesting it replaces the entry.
    read_only: bool = False


def imported_out(entry: ImportedEntry) -> EntryOut:
    where = entry.location
    provenance: dict[str, Any] = {"file": entry.file, "sheet": where.sheet, "cell": where.cell,
                                  "row": where.row, "question_id": where.qid,
                                  "section": list(where.heading_path)}
    return EntryOut(id=entry.id, question=entry.question, answer=entry.answer,
                    owner=entry.owner, status=LibraryStatus.APPROVED.value, tags=[],
                    last_reviewed=None, review_by=entry.review_by, source="import",
                    provenance={k: v for k, v in provenance.items() if v not in (None, [])},
                    version=0, stale=entry.stale(), duplicates=[], conflicts=[],
                    read_only=True)


def every_entry(kb: KnowledgeBase, status: LibraryStatus | None = None) -> list[EntryOut]:
    """The managed entries (typed in, or approved in a review), then those that files
    brought in: the whole library, whichever way each entry came in."""
    managed = entries_with_flags(kb, LibraryStore(kb.store.engine).list(kb.workspace,
                                                                        status=status))
    if status not in (None, LibraryStatus.APPROVED):
        return managed
    return managed + [imported_out(e) for e in imported_entries(kb.store.engine, kb.workspace)]


def entries_with_flags(kb: KnowledgeBase, items: list[LibraryItem]) -> list[EntryOut]:
    vectors = None
    if len(items) > 1:
        vectors = CachedEmbedder(kb.embedder, kb.store).lookup([i.question for i in items]).vectors
    marks = flags(items, vectors)
    return [EntryOut(id=i.id, question=i.question, answer=i.answer, owner=i.owner,
                     status=i.status.value, tags=i.tags, last_reviewed=i.last_reviewed,
                     review_by=i.review_by, source=i.source, provenance=i.provenance,
                     version=i.version, stale=marks[i.id].stale,
                     duplicates=marks[i.id].duplicates, conflicts=marks[i.id].conflicts)
            for i in items]


def sync_library(kb: KnowledgeBase, lock: threading.Lock, actor: str) -> None:
    """Index the workspace's approved entries as one generated document (or remove it)."""
    with lock:
        built = library_document(LibraryStore(kb.store.engine).list(kb.workspace))
        source = library_source(kb.workspace)
        if built is None:
            if source in kb.store.document_hashes(kb.workspace):
                kb.remove(source, actor=actor)
            return
        document, digest = built
        item = IngestItem(source=source, content_hash=digest,
                          size_bytes=sum(len(b.text) for b in document.blocks),
                          load=lambda: document)
        report = kb.ingest_items([item], total=1, actor=actor)
        failed = [r for r in report.results if r.outcome.value == "failed"]
        if failed:
            raise DDQError(ErrorCode.INDEX_ERROR, f"the library could not be indexed: "
                                                  f"{failed[0].detail}")


def approved_to_library(kb: KnowledgeBase, questionnaire_id: int, question_ids: list[int],
                        actor: str, lock: threading.Lock) -> int:
    """Approved review answers flow back into the library, with their provenance. An
    answer that came from the library already, or says "needs input", does not."""
    store = QuestionnaireStore(kb.store.engine)
    info = store.get(kb.workspace, questionnaire_id)
    questions = {q.id: q for q in store.questions(info.id)}
    drafts = store.drafts(info.id)
    library = LibraryStore(kb.store.engine)
    added = 0
    for question_id in question_ids:
        draft = drafts.get(question_id)
        question = questions.get(question_id)
        if draft is None or question is None or draft.status.value in ("library_match",
                                                                       "needs_input"):
            continue
        library.create(workspace=kb.workspace, question=question.text, answer=draft.text,
                       actor=actor, status=LibraryStatus.APPROVED, source="questionnaire",
                       provenance={"questionnaire_id": info.id, "questionnaire": info.name,
                                   "question_id": question_id, "question_ref": question.qid,
                                   "approved_by": actor, "draft_version": draft.version,
                                   "citations": [c.source_path for c in draft.citations]})
        added += 1
    if added:
        sync_library(kb, lock, actor)
    return added


def router() -> APIRouter:
    api = APIRouter(prefix="/api/library", tags=["library"], responses=ERRORS)
    viewer = Depends(require(Role.VIEWER))
    editor = Depends(require(Role.EDITOR))
    approver = Depends(require(Role.APPROVER))

    def lock(request: Request) -> threading.Lock:
        held: threading.Lock = request.app.state.write_lock
        return held

    @api.get("", response_model=list[EntryOut],
             summary="Every library entry (typed in, approved in a review, or imported "
                     "from a file, read-only), flagged when stale, near-duplicate or "
                     "conflicting")
    def list_entries(request: Request, caller: Caller = viewer,
                     status: LibraryStatus | None = None) -> list[EntryOut]:
        return every_entry(workspace_kb(request, caller), status)

    @api.post("", response_model=EntryOut, status_code=201, summary="Add an entry")
    def create(body: EntryIn, request: Request, caller: Caller = editor) -> EntryOut:
        kb = workspace_kb(request, caller)
        if body.status is LibraryStatus.APPROVED and caller.role < Role.APPROVER:
            raise DDQError(ErrorCode.FORBIDDEN, "adding an approved entry needs the approver "
                                                "role; add it as a draft")
        item = LibraryStore(kb.store.engine).create(
            workspace=kb.workspace, question=body.question, answer=body.answer,
            actor=caller.actor, owner=body.owner, status=body.status, tags=body.tags,
            last_reviewed=body.last_reviewed, review_by=body.review_by)
        if item.status is LibraryStatus.APPROVED:
            sync_library(kb, lock(request), caller.actor)
        return entries_with_flags(kb, [item])[0]

    @api.get("/{entry_id}", response_model=EntryOut, summary="One entry")
    def one(entry_id: RowId, request: Request, caller: Caller = viewer) -> EntryOut:
        kb = workspace_kb(request, caller)
        item = LibraryStore(kb.store.engine).get(kb.workspace, entry_id)
        everything = LibraryStore(kb.store.engine).list(kb.workspace)
        return next(e for e in entries_with_flags(kb, everything) if e.id == item.id)

    @api.patch("/{entry_id}", response_model=EntryOut,
               summary="Edit an entry (409 if it changed since you read it)")
    def edit(entry_id: RowId, body: EntryPatch, request: Request,
             caller: Caller = editor) -> EntryOut:
        kb = workspace_kb(request, caller)
        changes = body.model_dump(exclude_unset=True, exclude={"version"})
        # null clears an optional field (owner, dates); the others cannot be cleared.
        for name in ("question", "answer", "status", "tags"):
            if name in changes and changes[name] is None:
                raise DDQError(ErrorCode.INVALID_INPUT, f"{name}: cannot be null")
        if "status" in changes and changes["status"] in (LibraryStatus.APPROVED,
                                                         LibraryStatus.RETIRED) \
                and caller.role < Role.APPROVER:
            raise DDQError(ErrorCode.FORBIDDEN, "approving or retiring an entry needs the "
                                                "approver role")
        item = LibraryStore(kb.store.engine).update(
            workspace=kb.workspace, item_id=entry_id, seen_version=body.version,
            actor=caller.actor, changes=changes)
        sync_library(kb, lock(request), caller.actor)
        return entries_with_flags(kb, [item])[0]

    @api.delete("/{entry_id}", response_model=EntryOut,
                summary="Retire an entry: kept for the record, no longer used")
    def retire(entry_id: RowId, request: Request, caller: Caller = approver,
               version: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None) -> EntryOut:
        kb = workspace_kb(request, caller)
        store = LibraryStore(kb.store.engine)
        current = store.get(kb.workspace, entry_id)
        item = store.update(workspace=kb.workspace, item_id=entry_id,
                            seen_version=current.version if version is None else version,
                            actor=caller.actor, changes={"status": LibraryStatus.RETIRED})
        sync_library(kb, lock(request), caller.actor)
        return entries_with_flags(kb, [item])[0]

    return api
