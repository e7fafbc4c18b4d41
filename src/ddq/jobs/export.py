"""Exporting a job: the answered copy of the original file, and the review report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.jobs.report import rows_of, write_reports
from ddq.questionnaire.files import file_sha256, write
from ddq.store.questionnaires import QuestionnaireInfo, QuestionnaireStore


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    html_report: Path
    csv_report: Path
    #: Answer places written.
    written: int
    #: Places left as they were because the file already had an answer there.
    kept_existing: int
    needs_input: int
    not_answered: int
    #: The parts (or the sidecar file) that carry the provenance record, when one was made.
    provenance: tuple[str, ...] = ()


def default_output(source: Path) -> Path:
    return source.with_name(f"{source.stem}-answered{source.suffix}")


def export_answers(store: QuestionnaireStore, info: QuestionnaireInfo, out: Path | None = None,
                   *, source: Path | None = None, overwrite_existing: bool = False,
                   provenance_key: bytes | None = None) -> ExportResult:
    """Write the drafts into a copy of the original file and write the review report.

    ``source`` is the original file (default: where it was when the job started); it must be
    byte for byte the file the job was made from, or the answer places may not line up.
    Answers already in the file are kept unless ``overwrite_existing``. With a
    ``provenance_key`` the copy carries a signed provenance record (:mod:`ddq.trust`).
    """
    source = source or Path(info.source_path)
    if not source.exists():
        raise DDQError(ErrorCode.NOT_FOUND,
                       f"{source}: the original questionnaire is not there any more; pass its "
                       "new path")
    if file_sha256(source) != info.source_hash:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{source}: the file changed since it was answered; run `ddq answer` on "
                       "it again")
    out = out or default_output(source)
    questions = store.questions(info.id)
    drafts = store.drafts(info.id)
    values: dict[str, str] = {}
    kept = 0
    for question in questions:
        draft = drafts.get(question.id)
        if draft is None:
            continue
        current = {t.ref: t.current for t in question.targets}
        for ref, value in draft.fill.items():
            if current.get(ref) and not overwrite_existing:
                kept += 1
                continue
            values[ref] = value
    written = write(source, out, values)
    provenance: list[str] = []
    if provenance_key is not None:
        from ddq.trust.record import record_export

        provenance = record_export(store, info, out, values, provenance_key)
    rows = rows_of(questions, drafts)
    html_path, csv_path = write_reports(info, rows, out.with_suffix(""))
    return ExportResult(
        path=out, html_report=html_path, csv_report=csv_path, written=written,
        kept_existing=kept,
        needs_input=sum(1 for r in rows if r.status == "needs_input"),
        not_answered=sum(1 for r in rows if r.draft is None), provenance=tuple(provenance),
    )
