"""An answered questionnaire is an answer library.

The questionnaires a team answered last year are the library most teams start from. They are
read by the same format layer that finds a new questionnaire's questions
(:func:`ddq.questionnaire.files.extract`): every question whose answer place or notes place
holds something becomes one library entry, with the form's id, section, question, the
verdict of its choice place (a dropdown value, a marked choice column, a ticked box) and the
free text of its notes place (CAIQ's "CSP Implementation Description", HECVAT's
"Additional Information"), cited to the file, sheet and cell. Questions without an answer are
counted as skipped, never stored as empty answers.

A clean two-column library ("Question | Answer") is a questionnaire whose answers are all
filled in, so it takes the same way; its owner column (which the format layer does not read)
still comes from :mod:`ddq.ingest.library_loaders`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ddq.domain import Block, LoadedDocument, Location
from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, ExtractedQuestion, Extraction, PackageLimits, Target
from ddq.questionnaire.detect.choices import is_plain, verdict_of

_NOT_APPLICABLE = frozenset({"n/a", "na", "n.a.", "not applicable"})
#: A Word document is read as a library only when it answers at least this many questions
#: (a policy document with a question in a heading is not a questionnaire).
_MIN_DOCX_ANSWERS = 3


@dataclass(frozen=True, slots=True)
class LibraryRow:
    """One answered question of a questionnaire, as a library entry: the question as the
    reader found it, and the answer composed from its places."""

    source: ExtractedQuestion
    answer: str

    @property
    def question(self) -> str:
        return self.source.text.strip()

    @property
    def qid(self) -> str | None:
        return self.source.qid

    @property
    def section(self) -> tuple[str, ...]:
        return self.source.section

    @property
    def sheet(self) -> str | None:
        return self.source.sheet

    @property
    def cell(self) -> str | None:
        """The question's cell in a workbook ("B12"), or, in a file without a grid, the
        reader's own words for its place ("table 2 row 4"); None for a CSV line."""
        if self.source.sheet is None and self.source.row is None:
            return self.source.location
        return self.source.cell

    @property
    def row(self) -> int | None:
        return self.source.row


def _clean(text: str | None) -> str:
    return " ".join((text or "").split()) if text else ""


def verdict_label(value: str) -> str:
    """What a choice place's value says, as a library answer starts: "Yes" or "No" for any
    value that says so ("Compliant", "3 - Fully implemented"), else the value itself
    ("N/A", "Partially implemented")."""
    said = verdict_of(value)
    return {"yes": "Yes", "no": "No"}.get(said or "", value.strip().rstrip("."))


def _is_choice(target: Target) -> bool:
    """Whether the place holds a choice ("Yes", "N/A", a dropdown's value), not an answer in
    words that happens to start with one ("Yes, with AES-256.")."""
    value = (target.current or "").strip()
    folded = value.casefold()
    return (folded in {a.casefold() for a in target.allowed} or is_plain(value)
            or folded in _NOT_APPLICABLE)


def compose_answer(answer: Target | None, notes: Target | None) -> str:
    """The library answer of one question: the verdict first, then the supporting text
    ("Yes. Data is encrypted at rest with AES-256."), or whichever of the two is there."""
    said = (answer.current or "").strip() if answer is not None else ""
    text = (notes.current or "").strip() if notes is not None else ""
    if answer is not None and said and _is_choice(answer):
        said = verdict_label(said)
        if not text or _clean(text) == _clean(said):
            return f"{said}."
        return f"{said}. {text}"
    if said and text and _clean(text) != _clean(said):
        return f"{said}\n{text}"
    return said or text


def answered_rows(extraction: Extraction) -> tuple[list[LibraryRow], Counter[str]]:
    """The answered questions of ``extraction`` as library rows, and the unanswered ones
    counted by sheet (or by file, for a document)."""
    rows: list[LibraryRow] = []
    unanswered: Counter[str] = Counter()
    for question in extraction.questions:
        answer = compose_answer(question.answer, question.notes)
        if not answer or not question.text.strip():
            unanswered[question.sheet or ""] += 1
            continue
        rows.append(LibraryRow(question, answer))
    return rows, unanswered


def _answered(count: int) -> str:
    return f"{count} answered question{'s' if count != 1 else ''}"


def _summary(path: Path, rows: list[LibraryRow], unanswered: Counter[str],
             extraction: Extraction) -> list[str]:
    per_sheet = Counter(r.sheet or "" for r in rows)
    notes = []
    if any(per_sheet):
        counts = ", ".join(f"{name} {n}" for name, n in per_sheet.items())
        notes.append(f"{_answered(len(rows))} as library entries ({counts})")
    else:
        notes.append(f"{_answered(len(rows))} as library entries")
    skipped = sum(unanswered.values())
    if skipped:
        notes.append(f"{skipped} question{'s' if skipped != 1 else ''} without an answer "
                     f"skipped")
    groups: dict[str, list[str]] = {}
    for sheet in extraction.sheets:
        if sheet.skipped:
            groups.setdefault(_kind_of_skip(sheet.skipped), []).append(sheet.name)
    if groups:
        notes.append("sheets skipped: " + "; ".join(f"{', '.join(names)} ({why})"
                                                     for why, names in groups.items()))
    return notes


def _kind_of_skip(reason: str) -> str:
    """A skipped sheet's reason in a word or two, for a one-line report (``ddq questions``
    gives each in full)."""
    if reason.startswith("hidden"):
        return "hidden"
    if "formulas" in reason:
        return "reports built with formulas"
    if reason.startswith("no header") or "no question" in reason:
        return "no questions"
    return reason


def library_document(path: Path, extraction: Extraction,
                     owners: dict[str, tuple[str | None, date | None]] | None = None
                     ) -> LoadedDocument:
    """The library entries of an answered questionnaire; an error that names the file when
    it answers no question (nothing is stored)."""
    rows, unanswered = answered_rows(extraction)
    if not rows:
        found = len(extraction.questions)
        raise DDQError(ErrorCode.EMPTY_FILE,
                       f"{path}: a questionnaire with {found} question"
                       f"{'s' if found != 1 else ''} and none answered: nothing to add to the "
                       f"answer library")
    owners = owners or {}
    blocks = []
    for row in rows:
        owner, review_by = owners.get(_clean(row.question).casefold(), (None, None))
        blocks.append(Block(text=f"Q: {row.question}\nA: {row.answer}",
                            location=Location(sheet=row.sheet, row=row.row, cell=row.cell,
                                              qid=row.qid, heading_path=row.section),
                            library_question=row.question, library_answer=row.answer,
                            library_owner=owner, library_review_by=review_by))
    return LoadedDocument(title=path.stem.replace("_", " "), blocks=blocks,
                          format=extraction.format.value,
                          notes=_summary(path, rows, unanswered, extraction))


def answered_questionnaire(path: Path, limits: PackageLimits = DEFAULT_LIMITS
                           ) -> Extraction | None:
    """``path`` read as a questionnaire, or None when the format layer finds no questionnaire
    in it (the caller reads it as a plain library, a table of records or a document). Files
    the format layer refuses (encrypted, corrupt, a bomb, too large) stay refused."""
    from ddq.questionnaire.files import extract

    try:
        extraction = extract(path, limits=limits)
    except DDQError as exc:
        if exc.code in (ErrorCode.NO_QUESTIONS, ErrorCode.NO_QUESTION_COLUMN,
                        ErrorCode.NO_ANSWER_COLUMN, ErrorCode.INVALID_INPUT):
            return None
        raise
    if path.suffix.lower() == ".docx":
        answered = sum(1 for q in extraction.questions if compose_answer(q.answer, q.notes))
        if answered < _MIN_DOCX_ANSWERS:
            return None
    return extraction
