"""Making the provenance record at export, and checking an exported file against it.

At export the answer places are read back from the written file by the same reader that
will read them at verification, so an unchanged place hashes the same whatever the format
does to a value (a ticked box, a neutralised formula). ``verify_file`` reads the places
again and compares, and compares each cited passage with the store: a passage whose text is
no longer in its document (or whose document is gone) is a changed source; other edits of
the same document are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ddq.errors import DDQError
from ddq.forms import ExtractOptions
from ddq.questionnaire.files import extract
from ddq.store.questionnaires import QuestionnaireInfo, QuestionnaireStore
from ddq.store.repository import KnowledgeStore
from ddq.store.review import ReviewStore
from ddq.store.schema import ChunkRow, DocumentRow
from ddq.trust.carrier import attach, read_carried
from ddq.trust.provenance import (
    AnswerRecord,
    ProvenanceRecord,
    RecordState,
    SourceRecord,
    new_record,
    open_envelope,
    seal,
    sha256_text,
)


def place_hash(value: str | None) -> str | None:
    return None if value is None else sha256_text(value)


Places = dict[tuple[str, str], str | None]


def read_places(path: Path, options: Mapping[str, object]) -> Places | None:
    """Every answer place's current text by (question key, place role), or None when the
    file cannot be read. By role, not by ref: a Word answer written after its question is a
    new paragraph, so the answered copy's refs are not the original's."""
    try:
        extraction = extract(path, ExtractOptions(**options))  # type: ignore[arg-type]
    except (DDQError, TypeError):
        return None
    return {(q.key, t.role.value): t.current for q in extraction.questions for t in q.targets}


def _iso(value: object) -> str | None:
    return None if value is None else value.isoformat()  # type: ignore[attr-defined]


def record_export(
    store: QuestionnaireStore,
    info: QuestionnaireInfo,
    out: Path,
    written: Mapping[str, str],
    key: bytes,
) -> list[str]:
    """Seal a record of what ``out`` holds and put it into ``out``; the parts written."""
    questions = store.questions(info.id)
    drafts = store.drafts(info.id)
    reviews = ReviewStore(store.engine).reviews(info.id)
    knowledge = KnowledgeStore(store.engine)
    cited = {c.chunk_id for d in drafts.values() for c in d.citations}
    chunks = knowledge.chunks_by_ids(info.workspace, cited)
    documents = knowledge.document_hashes(info.workspace)
    back = read_places(out, info.options) or {}
    answers: list[AnswerRecord] = []
    for question in questions:
        draft = drafts.get(question.id)
        roles = {t.ref: t.role.value for t in question.targets}
        refs = {roles[ref]: ref for ref in (draft.fill if draft else {}) if ref in written}
        if draft is None or not refs:
            continue
        places = {role: place_hash(back.get((question.key, role))) for role in refs}
        review = reviews.get(question.id)
        approved = review is not None and review.status.value == "approved"
        sources = []
        for citation in draft.citations:
            chunk = chunks.get(citation.chunk_id)
            sources.append(
                SourceRecord(
                    source_path=citation.source_path,
                    location=citation.location,
                    passage_sha256=sha256_text(chunk.text) if chunk else None,
                    document_sha256=documents.get(citation.source_path),
                )
            )
        answers.append(
            AnswerRecord(
                question_key=question.key,
                qid=question.qid,
                ordinal=question.ordinal,
                question_sha256=sha256_text(question.text),
                places=places,
                refs=refs,
                answer_sha256=sha256_text(draft.text),
                status=draft.status.value,
                stance=draft.stance,
                sources=sources,
                drafted_by=draft.answerer,
                drafted_at=_iso(draft.created_at) or "",
                review_status=review.status.value if review else None,
                approved_by=review.reviewed_by if approved and review else None,
                approved_at=_iso(review.reviewed_at) if approved and review else None,
            )
        )
    record = new_record(
        workspace=info.workspace,
        questionnaire=info.name,
        questionnaire_id=info.id,
        format=info.format,
        source_sha256=info.source_hash,
        options=info.options,
        answers=answers,
    )
    return attach(out, seal(record, key))


# --- verifying -----------------------------------------------------------------------------

UNCHANGED = "unchanged since export"
EDITED = "edited by hand after export"
SOURCES_CHANGED = "its sources changed since export"


@dataclass(frozen=True, slots=True)
class SourceChange:
    source_path: str
    location: str
    why: str  # "passage changed", "document removed", "changed before export"


@dataclass(frozen=True, slots=True)
class AnswerCheck:
    question: str  # the question's id in the file (qid), or its key
    state: str
    edited_places: list[str] = field(default_factory=list)
    changed_sources: list[SourceChange] = field(default_factory=list)
    approved_by: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    path: Path
    record_state: str
    problem: str
    record: ProvenanceRecord | None
    answers: list[AnswerCheck]
    sources_checked: bool

    def count(self, state: str) -> int:
        return sum(1 for a in self.answers if a.state == state)


def _passages(knowledge: KnowledgeStore, workspace: str, paths: set[str]) -> dict[str, set[str]]:
    """sha256 of every chunk's text, per source path now in the store."""
    found: dict[str, set[str]] = {}
    wanted = sorted(paths)
    with Session(knowledge.engine) as session:
        for start in range(0, len(wanted), 500):
            rows = session.execute(
                select(DocumentRow.source_path, ChunkRow.text)
                .join(ChunkRow, ChunkRow.document_id == DocumentRow.id)
                .where(
                    DocumentRow.workspace == workspace,
                    DocumentRow.source_path.in_(wanted[start : start + 500]),
                )
            )
            for path, text in rows:
                found.setdefault(path, set()).add(sha256_text(text))
    return found


def verify_file(path: Path, key: bytes, knowledge: KnowledgeStore | None = None) -> VerifyReport:
    """Check an exported file against the record it carries (see the module docstring)."""
    carried = read_carried(path)
    if carried.problem:
        return VerifyReport(path, RecordState.MALFORMED, carried.problem, None, [], False)
    state, record, why = open_envelope(carried.text, key)
    if record is None:
        return VerifyReport(path, state, why, None, [], False)
    current = read_places(path, record.options)
    if current is None:
        return VerifyReport(
            path,
            RecordState.VALID,
            f"{path.name}: its answer places cannot be read any more",
            record,
            [],
            False,
        )
    passages = (
        _passages(
            knowledge, record.workspace, {s.source_path for a in record.answers for s in a.sources}
        )
        if knowledge is not None
        else None
    )
    checks = []
    for answer in record.answers:
        edited = [
            answer.refs.get(role, role)
            for role, digest in answer.places.items()
            if (answer.question_key, role) not in current
            or place_hash(current[(answer.question_key, role)]) != digest
        ]
        changes = []
        for source in answer.sources if passages is not None else []:
            assert passages is not None
            if source.passage_sha256 is None:
                changes.append(
                    SourceChange(source.source_path, source.location, "changed before export")
                )
            elif source.source_path not in passages:
                changes.append(
                    SourceChange(source.source_path, source.location, "document removed")
                )
            elif source.passage_sha256 not in passages[source.source_path]:
                changes.append(SourceChange(source.source_path, source.location, "passage changed"))
        state_of = EDITED if edited else SOURCES_CHANGED if changes else UNCHANGED
        checks.append(
            AnswerCheck(
                answer.qid or answer.question_key, state_of, edited, changes, answer.approved_by
            )
        )
    return VerifyReport(path, RecordState.VALID, "", record, checks, passages is not None)
