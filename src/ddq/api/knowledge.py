"""Knowledge routes: who am I, documents (list, upload and ingest, remove), search, ask and
the audit trail. Every route works inside the caller's workspace only: an id from another
workspace is "not found", never "forbidden", so nothing leaks that it exists."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ddq.api.auth import Caller, require, workspace_kb
from ddq.api.errors import ErrorBody, RequestBody, RowId
from ddq.cli_output import answer_json, hit_json
from ddq.domain import LoadedDocument
from ddq.errors import DDQError, ErrorCode
from ddq.forms import neutralise
from ddq.ingest.loaders import SUPPORTED_SUFFIXES, load_file
from ddq.ingest.pipeline import IngestItem, Outcome, file_hash
from ddq.kb import KnowledgeBase
from ddq.safe_open import read_bounded
from ddq.store.keys import Role
from ddq.store.schema import as_utc

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 413, 415, 422, 503)
}
_CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\- ]+")


class Me(BaseModel):
    workspace: str
    role: str
    key_id: int
    key_name: str


class Document(BaseModel):
    id: int
    name: str
    title: str
    format: str
    chunks: int


class UploadResult(BaseModel):
    name: str
    outcome: str
    chunks: int = 0
    detail: str = ""
    error_code: str | None = None  # why a failed file failed (``unreadable_file``, ...)


class Question(RequestBody):
    question: str = Field(min_length=1, max_length=4000)


class SearchBody(Question):
    k: int = Field(default=8, ge=1, le=50)


def _write_lock(request: Request) -> threading.Lock:
    lock: threading.Lock = request.app.state.write_lock
    return lock


def uploads_dir(kb: KnowledgeBase) -> Path:
    return (kb.settings.home / "uploads" / kb.workspace).resolve()


def public_name(kb: KnowledgeBase, source: str) -> str:
    """What a response calls a document: its name below the workspace's uploads (what the
    caller uploaded), else its file name; never a path on the server."""
    path = Path(source)
    if not path.is_absolute():
        return source
    try:
        return str(path.relative_to(uploads_dir(kb)))
    except ValueError:
        return path.name


def safe_name(filename: str | None) -> str:
    name = _SAFE_NAME.sub("_", Path(filename or "").name).strip(" .")
    if not name:
        raise DDQError(ErrorCode.INVALID_INPUT, "the uploaded file has no usable name")
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        known = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DDQError(ErrorCode.UNSUPPORTED_FORMAT,
                       f"{name}: unsupported file type (supported: {known})")
    return name[:200]


async def receive(upload: UploadFile, folder: Path, limit: int) -> Path:
    """Stream an upload into a temporary file in ``folder``; 413 past ``limit`` bytes, and
    then nothing of it is left on disk."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=folder)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise DDQError(ErrorCode.FILE_TOO_LARGE,
                                   f"{upload.filename}: larger than the "
                                   f"{limit / 1024 / 1024:.0f} MB upload limit")
                out.write(chunk)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return Path(temporary)


def router() -> APIRouter:
    api = APIRouter(prefix="/api", tags=["knowledge"], responses=ERRORS)
    viewer = Depends(require(Role.VIEWER))
    editor = Depends(require(Role.EDITOR))
    admin = Depends(require(Role.ADMIN))

    @api.get("/me", response_model=Me, summary="The caller's workspace and role")
    def me(caller: Caller = viewer) -> Me:
        return Me(workspace=caller.workspace, role=caller.role.label, key_id=caller.key_id,
                  key_name=caller.key_name)

    @api.get("/documents", response_model=list[Document], summary="Documents of the workspace")
    def documents(request: Request, caller: Caller = viewer) -> list[Document]:
        kb = workspace_kb(request, caller)
        return [Document(id=d.id, name=Path(d.source_path).name, title=d.title,
                         format=d.format, chunks=d.chunk_count)
                for d in kb.store.documents(kb.workspace)]

    @api.post("/documents", response_model=list[UploadResult],
              summary="Upload files and ingest them into the workspace")
    async def upload(request: Request, files: list[UploadFile],
                     caller: Caller = editor) -> list[UploadResult]:
        kb = workspace_kb(request, caller)
        limit = int(kb.settings.max_upload_mb * 1024 * 1024)
        folder = uploads_dir(kb)
        named = [(safe_name(f.filename), f) for f in files]  # all names checked first
        received: list[tuple[str, Path]] = []
        try:
            for name, upload_file in named:
                received.append((name, await receive(upload_file, folder, limit)))
        except BaseException:
            for _, path in received:
                path.unlink(missing_ok=True)
            raise
        # The lock is taken in the worker thread, never in the event loop.
        return await run_in_threadpool(_ingest_uploads, kb, folder, received,
                                       _write_lock(request), caller.actor)

    @api.delete("/documents/{document_id}", summary="Remove a document and its chunks")
    def remove(document_id: RowId, request: Request, caller: Caller = admin) -> dict[str, int]:
        kb = workspace_kb(request, caller)
        found = next((d for d in kb.store.documents(kb.workspace) if d.id == document_id),
                     None)
        if found is None:
            raise DDQError(ErrorCode.NOT_FOUND, f"no document {document_id} in this workspace")
        with _write_lock(request):
            chunks = kb.remove(found.source_path, actor=caller.actor)
        return {"removed_chunks": chunks}

    @api.post("/search", summary="Hybrid retrieval: the passages that match a question")
    def search(body: SearchBody, request: Request, caller: Caller = viewer
               ) -> list[dict[str, Any]]:
        kb = workspace_kb(request, caller)
        hits = [hit_json(h) for h in kb.retrieve(body.question, top_k=body.k).hits]
        return [{**hit, "source": public_name(kb, hit["source"])} for hit in hits]

    @api.post("/ask", summary="Draft a cited answer to one question")
    def ask(body: Question, request: Request, caller: Caller = viewer) -> dict[str, Any]:
        kb = workspace_kb(request, caller)
        answer = answer_json(kb.ask(body.question))
        for citation in answer["citations"]:
            citation["source"] = public_name(kb, citation["source"])
        return answer

    @api.get("/audit", summary="The audit trail of the workspace (JSON, or CSV with ?format=csv)")
    def audit(request: Request, format: str = "json", caller: Caller = admin) -> Any:
        kb = workspace_kb(request, caller)
        rows = [{"id": r.id, "at": as_utc(r.at).isoformat(), "actor": r.actor, "action": r.action,
                 "subject": r.subject, "detail": r.detail}
                for r in kb.store.audit_entries(kb.workspace)]
        if format != "csv":
            return rows
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["id", "at", "actor", "action", "subject",
                                                 "detail"])
        writer.writeheader()
        for row in rows:
            # Actors, subjects and details hold what callers typed (questions, file names):
            # a spreadsheet must not run them as formulas.
            writer.writerow({key: neutralise(str(value)) for key, value in row.items()})
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=audit.csv"})

    return api


@dataclass(slots=True)
class _Opened:
    """An upload read outside the write lock: its document, or why it has nothing to index."""

    name: str
    staged: Path
    data: bytes
    document: LoadedDocument | None
    failure: str = ""
    failure_code: str | None = None


#: Refusals that are one file's failure, not the request's: the rest of an upload goes on.
_FILE_FAILURES = frozenset({ErrorCode.EMPTY_FILE, ErrorCode.UNREADABLE_FILE,
                            ErrorCode.ENCRYPTED_FILE})


#: A staging folder older than this was left by a process killed while it parsed.
_STAGING_GRACE_S = 3600.0


def _clean_staging(folder: Path) -> None:
    """Remove what a killed process left while parsing an upload (its own staging folders
    are younger than the grace period, or gone)."""
    cutoff = time.time() - _STAGING_GRACE_S
    for leftover in folder.glob(".incoming-*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)


def _open_upload(kb: KnowledgeBase, folder: Path, name: str, temporary: Path) -> _Opened:
    """Parse one upload, under its own name in a private folder, through the safe-open
    layer. A file the layer refuses as unsafe (a bomb, over a work limit) or too large is
    this request's 4xx, nothing stored; one that is merely unreadable (corrupt, truncated,
    encrypted, empty) is reported as that file's failure, as an ingest would, and the
    request's other files are still ingested."""
    _clean_staging(folder)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder))
    staged = staging / name
    os.replace(temporary, staged)
    limits = kb.settings.knowledge_limits
    try:
        data = read_bounded(staged, limits)
        document = load_file(staged, data, None, limits)
    except DDQError as exc:
        detail = exc.detail.replace(f"{staging}/", "")
        if exc.code in _FILE_FAILURES:
            return _Opened(name, staged, b"", None, detail, exc.code.value)
        shutil.rmtree(staging, ignore_errors=True)
        raise DDQError(exc.code, detail) from None
    document.notes[:] = [note.replace(f"{staging}/", "") for note in document.notes]
    return _Opened(name, staged, data, document)


def _parsed(document: LoadedDocument) -> LoadedDocument:
    return document


def _ingest_uploads(kb: KnowledgeBase, folder: Path, received: list[tuple[str, Path]],
                    lock: threading.Lock, actor: str) -> list[UploadResult]:
    # Every file is parsed before the write lock is taken: the lock only covers the store
    # and the indexes, so a slow file holds up no other upload, and a refused file refuses
    # the request before anything is stored.
    opened: list[_Opened] = []
    try:
        for name, temporary in received:
            opened.append(_open_upload(kb, folder, name, temporary))
    except BaseException:
        for _, temporary in received:
            temporary.unlink(missing_ok=True)
        for item in opened:
            shutil.rmtree(item.staged.parent, ignore_errors=True)
        raise
    try:
        with lock:
            return _ingest_locked(kb, folder, opened, actor)
    finally:
        for item in opened:
            shutil.rmtree(item.staged.parent, ignore_errors=True)


def _ingest_locked(kb: KnowledgeBase, folder: Path, opened: list[_Opened],
                   actor: str) -> list[UploadResult]:
    """Move each upload to its place and ingest it; a file that fails leaves the document
    (and the file) that was there before unchanged."""
    results: list[UploadResult] = []
    for item in opened:
        name = item.name
        if item.document is None:
            results.append(UploadResult(name=name, outcome=Outcome.FAILED.value,
                                        detail=item.failure, error_code=item.failure_code))
            continue
        final = folder / name
        backup = folder / f".previous-{name}"
        had_previous = final.exists()
        if had_previous:
            shutil.copy2(final, backup)
        os.replace(item.staged, final)
        parsed = IngestItem(source=str(final), content_hash=file_hash(item.data),
                            size_bytes=len(item.data),
                            load=functools.partial(_parsed, item.document))
        try:
            report = kb.ingest_items([parsed], total=1, actor=actor)
        except BaseException:
            _restore(final, backup, had_previous)
            raise
        result = report.results[0] if report.results else None
        if result is None or result.outcome is Outcome.FAILED:
            _restore(final, backup, had_previous)
        else:
            backup.unlink(missing_ok=True)
        outcome = result.outcome.value if result else "failed"
        detail = (result.detail if result else "not ingested").replace(str(folder) + "/", "")
        results.append(UploadResult(name=name, outcome=outcome,
                                    chunks=result.chunks if result else 0, detail=detail))
    return results


def _restore(final: Path, backup: Path, had_previous: bool) -> None:
    if had_previous:
        os.replace(backup, final)
    else:
        final.unlink(missing_ok=True)
