"""The review web UI: server-rendered pages (Jinja2) over the same stores as the API, served
by the same process under ``/ui``. No build step and no script framework: plain forms, a
page that refreshes itself while a job runs, and ``<details>`` to open a cited passage.

Sign-in is with an API key, kept in an HttpOnly, SameSite=Strict cookie (so another site
cannot post a form with it); every page checks the key's role and works in its workspace.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ddq.api.auth import (
    COOKIE,
    AuthThrottled,
    Caller,
    caller_from,
    note_failed_sign_in,
    refuse_if_throttled,
)
from ddq.api.errors import MAX_INT, RowId
from ddq.api.knowledge import _ingest_uploads, receive, safe_name, uploads_dir
from ddq.api.library import approved_to_library, every_entry, sync_library
from ddq.api.questionnaires import _edited, _register, questionnaires_dir
from ddq.api.stale import changed_in, validity_by_document
from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase
from ddq.questionnaire.files import SUPPORTED_QUESTIONNAIRES
from ddq.store.keys import KeyStore, Role
from ddq.store.library import LibraryStatus, LibraryStore
from ddq.store.questionnaires import QuestionnaireStore
from ddq.store.review import JobState, ReviewAction, ReviewStore

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATE_LABELS = {"idle": "not started", "queued": "waiting to start", "running": "drafting",
                "paused": "paused", "done": "drafted", "failed": "failed"}


def _back(url: str, message: str = "", anchor: str = "") -> RedirectResponse:
    separator = "&" if "?" in url else "?"
    target = f"{url}{separator}msg={quote(message)}" if message else url
    return RedirectResponse(target + (f"#{anchor}" if anchor else ""), status_code=303)


def router() -> APIRouter:
    ui = APIRouter(prefix="/ui", include_in_schema=False)

    def page(request: Request, name: str, caller: Caller | None, status_code: int = 200,
             **context: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request, name, {"caller": caller, "msg": request.query_params.get("msg", ""),
                            "roles": Role, **context}, status_code=status_code)

    def signed_in(request: Request, role: Role = Role.VIEWER) -> tuple[Caller, KnowledgeBase]:
        caller = caller_from(request)
        if caller is None:
            raise _SignIn()
        if caller.role < role:
            raise DDQError(ErrorCode.FORBIDDEN, f"this needs the {role.label} role; your key "
                                                f"is {caller.role.label}")
        kb: KnowledgeBase = request.app.state.kb
        return caller, kb.scoped(caller.workspace)

    @ui.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html", None)

    @ui.post("/login", response_model=None)
    def login(request: Request, key: str = Form("")) -> Response:
        kb: KnowledgeBase = request.app.state.kb
        try:
            refuse_if_throttled(request)
        except AuthThrottled as exc:
            refused = page(request, "login.html", None, status_code=429, error=exc.detail)
            refused.headers["Retry-After"] = str(exc.retry_after_s)
            return refused
        info = KeyStore(kb.store.engine).authenticate(key.strip())
        if info is None:
            note_failed_sign_in(request)
            return page(request, "login.html", None, status_code=401,
                        error="That key is not valid (or was revoked).")
        response = RedirectResponse("/ui", status_code=303)
        response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    @ui.post("/logout")
    def logout() -> RedirectResponse:
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @ui.get("", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        caller, kb = signed_in(request)
        store, reviews = QuestionnaireStore(kb.store.engine), ReviewStore(kb.store.engine)
        rows = []
        for info in store.all(kb.workspace):
            progress = store.progress(info.id)
            approved = sum(1 for r in reviews.reviews(info.id).values()
                           if r.status.value == "approved")
            state = reviews.job(info.id).state.value
            rows.append({"info": info, "progress": progress, "approved": approved,
                         "state": STATE_LABELS[state]})
        return page(request, "index.html", caller, questionnaires=rows,
                    accept=",".join(sorted(SUPPORTED_QUESTIONNAIRES)))

    @ui.post("/questionnaires")
    async def upload_questionnaire(request: Request, file: UploadFile) -> RedirectResponse:
        caller, kb = signed_in(request, Role.EDITOR)
        name = Path(file.filename or "").name
        if Path(name).suffix.lower() not in SUPPORTED_QUESTIONNAIRES:
            return _back("/ui", f"{name or 'That file'} is not a questionnaire (XLSX, DOCX "
                                "or CSV).")
        folder = questionnaires_dir(kb)
        temporary = await receive(file, folder, int(kb.settings.max_upload_mb * 1024 * 1024))
        try:
            info = await run_in_threadpool(_register, kb, temporary, folder, name, caller)
        except DDQError as exc:
            return _back("/ui", f"{name}: {exc.detail}")
        finally:
            temporary.unlink(missing_ok=True)
        ReviewStore(kb.store.engine).queue(info.id, actor=caller.actor)
        request.app.state.worker.wake()
        return _back(f"/ui/q/{info.id}", f"{info.question_count} questions found; drafting "
                                         "has started.")

    @ui.get("/q/{questionnaire_id}", response_class=HTMLResponse)
    def questionnaire(questionnaire_id: RowId, request: Request, status: str = "",
                      min_confidence: str = "", max_confidence: str = "") -> HTMLResponse:
        caller, kb = signed_in(request)
        store, reviews = QuestionnaireStore(kb.store.engine), ReviewStore(kb.store.engine)
        info = store.get(kb.workspace, questionnaire_id)
        job = reviews.job(info.id)
        drafts = store.drafts(info.id)
        states = reviews.reviews(info.id)
        low = _number(min_confidence)
        high = _number(max_confidence)
        items = []
        changed = changed_in(kb, info.id)  # approved, and a cited passage changed since
        for q in store.questions(info.id):
            d, r = drafts.get(q.id), states[q.id]
            shown_status = r.status.value if r.status.value != "pending" else (
                d.status.value if d else "undrafted")
            if status and status not in (r.status.value, d.status.value if d else "undrafted",
                                         "source_changed" if q.id in changed else ""):
                continue
            if low is not None and (d is None or d.confidence < low):
                continue
            if high is not None and (d is None or d.confidence > high):
                continue
            items.append({"q": q, "d": d, "r": r, "status": shown_status,
                          "changed": changed.get(q.id)})
        progress = store.progress(info.id)
        live = job.state in (JobState.QUEUED, JobState.RUNNING)
        return page(request, "questionnaire.html", caller, info=info, items=items,
                    progress=progress, job=job, state=STATE_LABELS[job.state.value],
                    live=live, filters={"status": status, "min_confidence": min_confidence,
                                        "max_confidence": max_confidence})

    @ui.post("/q/{questionnaire_id}/review/{question_id}")
    def review(questionnaire_id: RowId, question_id: RowId, request: Request,
               action: str = Form(...), version: int = Form(..., ge=0, le=MAX_INT),
               text: str = Form(""), assignee: str = Form("")) -> RedirectResponse:
        try:
            chosen = ReviewAction(action)
        except ValueError:
            raise DDQError(ErrorCode.INVALID_INPUT, f"unknown action {action!r}") from None
        needed = Role.APPROVER if chosen in (ReviewAction.APPROVE, ReviewAction.REJECT) \
            else Role.EDITOR
        caller, kb = signed_in(request, needed)
        info = QuestionnaireStore(kb.store.engine).get(kb.workspace, questionnaire_id)
        back = f"/ui/q/{info.id}"
        edited = None
        if chosen is ReviewAction.EDIT:
            if not text.strip():
                return _back(back, "An edit needs the new text.", f"q{question_id}")
            edited = _edited(kb, info, question_id, text.strip(), caller)
        try:
            ReviewStore(kb.store.engine).review(
                workspace=kb.workspace, questionnaire_id=info.id, question_id=question_id,
                action=chosen, seen_version=version, actor=caller.actor,
                assignee=assignee.strip() or None, edited=edited)
        except DDQError as exc:
            if exc.code is ErrorCode.CONFLICT:
                return _back(back, "Someone else changed this answer while you were looking; "
                                   "here it is as it is now.", f"q{question_id}")
            raise
        if chosen is ReviewAction.APPROVE:
            approved_to_library(kb, info.id, [question_id], caller.actor,
                                request.app.state.write_lock)
        done = {"approve": "Approved", "reject": "Rejected", "edit": "Saved",
                "reassign": "Reassigned"}[chosen.value]
        return _back(back, f"{done}.", f"q{question_id}")

    @ui.post("/q/{questionnaire_id}/bulk-approve")
    def bulk(questionnaire_id: RowId, request: Request,
             min_confidence: float = Form(...)) -> RedirectResponse:
        caller, kb = signed_in(request, Role.APPROVER)
        info = QuestionnaireStore(kb.store.engine).get(kb.workspace, questionnaire_id)
        ids = ReviewStore(kb.store.engine).bulk_approve(
            workspace=kb.workspace, questionnaire_id=info.id,
            min_confidence=max(0.0, min(1.0, min_confidence)), actor=caller.actor)
        approved_to_library(kb, info.id, ids, caller.actor, request.app.state.write_lock)
        return _back(f"/ui/q/{info.id}", f"Approved {len(ids)} answers with confidence "
                                         f"{min_confidence:.2f} or more.")

    @ui.post("/q/{questionnaire_id}/{verb}")
    def job_control(questionnaire_id: RowId, verb: str, request: Request) -> RedirectResponse:
        caller, kb = signed_in(request, Role.EDITOR)
        info = QuestionnaireStore(kb.store.engine).get(kb.workspace, questionnaire_id)
        reviews = ReviewStore(kb.store.engine)
        if verb == "start":
            reviews.queue(info.id, actor=caller.actor)
            request.app.state.worker.wake()
        elif verb == "pause":
            reviews.pause(info.id, actor=caller.actor)
        else:
            raise DDQError(ErrorCode.NOT_FOUND, f"no action {verb!r}")
        return _back(f"/ui/q/{info.id}")

    @ui.get("/library", response_class=HTMLResponse)
    def library(request: Request, show: str = "") -> HTMLResponse:
        caller, kb = signed_in(request)
        entries = every_entry(kb)
        if show == "attention":
            entries = [e for e in entries if e.stale or e.duplicates or e.conflicts]
        elif show:
            entries = [e for e in entries if e.status == show]
        return page(request, "library.html", caller, entries=entries, show=show)

    @ui.post("/library")
    def add_entry(request: Request, question: str = Form(""), answer: str = Form(""),
                  owner: str = Form(""), tags: str = Form(""),
                  review_by: str = Form("")) -> RedirectResponse:
        caller, kb = signed_in(request, Role.EDITOR)
        try:
            LibraryStore(kb.store.engine).create(
                workspace=kb.workspace, question=question, answer=answer, actor=caller.actor,
                owner=owner.strip() or None, tags=_tags(tags), review_by=_date(review_by))
        except DDQError as exc:
            return _back("/ui/library", exc.detail)
        return _back("/ui/library", "Added as a draft; an approver can approve it.")

    @ui.post("/library/{entry_id}")
    def edit_entry(entry_id: RowId, request: Request,
                   version: int = Form(..., ge=0, le=MAX_INT),
                   question: str = Form(""), answer: str = Form(""), owner: str = Form(""),
                   tags: str = Form(""), review_by: str = Form(""),
                   status: str = Form("")) -> RedirectResponse:
        wanted = LibraryStatus(status) if status else None
        needed = Role.APPROVER if wanted in (LibraryStatus.APPROVED, LibraryStatus.RETIRED) \
            else Role.EDITOR
        caller, kb = signed_in(request, needed)
        store = LibraryStore(kb.store.engine)
        current = store.get(kb.workspace, entry_id)
        changes: dict[str, Any] = {"question": question, "answer": answer,
                                   "owner": owner.strip() or None, "tags": _tags(tags),
                                   "review_by": _date(review_by)}
        if wanted is not None and wanted is not current.status:
            changes["status"] = wanted
            if wanted is LibraryStatus.APPROVED:
                changes["last_reviewed"] = datetime.now(UTC).date()
        try:
            store.update(workspace=kb.workspace, item_id=entry_id, seen_version=version,
                         actor=caller.actor, changes=changes)
        except DDQError as exc:
            if exc.code is ErrorCode.CONFLICT:
                return _back("/ui/library", "Someone else changed this entry while you were "
                                            "editing; here it is as it is now.", f"e{entry_id}")
            return _back("/ui/library", exc.detail, f"e{entry_id}")
        sync_library(kb, request.app.state.write_lock, caller.actor)
        return _back("/ui/library", "Saved.", f"e{entry_id}")

    @ui.get("/knowledge", response_class=HTMLResponse)
    def knowledge(request: Request) -> HTMLResponse:
        caller, kb = signed_in(request)
        return page(request, "knowledge.html", caller,
                    documents=kb.store.documents(kb.workspace),
                    validity=validity_by_document(kb))

    @ui.post("/knowledge")
    async def upload_knowledge(request: Request, files: list[UploadFile]) -> RedirectResponse:
        caller, kb = signed_in(request, Role.EDITOR)
        folder = uploads_dir(kb)
        try:
            named = [(safe_name(f.filename), f) for f in files]
        except DDQError as exc:
            return _back("/ui/knowledge", exc.detail)
        received = []
        for name, upload_file in named:
            received.append((name, await receive(upload_file, folder,
                                                 int(kb.settings.max_upload_mb * 1024 * 1024))))
        results = await run_in_threadpool(_ingest_uploads, kb, folder, received,
                                          request.app.state.write_lock, caller.actor)
        summary = "; ".join(f"{r.name}: {r.outcome}" + (f" ({r.detail})" if r.detail else "")
                            for r in results)
        return _back("/ui/knowledge", summary)

    return ui


class _SignIn(Exception):
    """No valid key: the page sends the browser to the sign-in form."""


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()][:20]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise DDQError(ErrorCode.INVALID_INPUT, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


def install_sign_in_redirect(app: Any) -> None:
    @app.exception_handler(_SignIn)
    async def to_login(_request: Request, _exc: _SignIn) -> RedirectResponse:
        return RedirectResponse("/ui/login", status_code=303)
