"""What is read out of a questionnaire file, and what is written back into it.

Extraction turns a file into :class:`Extraction` (questions with their sections and the
places their answers go); write-back takes a mapping from answer places (:class:`Target`
refs) to text and writes a copy of the file with only those places changed.

A ``ref`` is the format's own address of an answer place, opaque to everything but the
format's writer:

- XLSX: ``"<sheet name>!<cell>"``, e.g. ``"Security Questionnaire!D5"``; or, for a form
  with one column per choice ("Yes | No | N/A", marked with an X), the row's choice cells
  ``"<sheet name>!<first>:<last>"``, e.g. ``"Vendor!C5:E5"``, written with the choice's name.
- DOCX: ``"table:<t>:<row>:<col>"`` (a table cell), ``"table:<t>:<row>:<first>-<last>"``
  (a row's choice cells, to mark) or ``"paragraph:<p>"`` (a body
  paragraph, by index among ``document.paragraphs``), or ``"after:<p>"`` (a new paragraph
  to insert after body paragraph ``p``, when the question has no answer paragraph).
- CSV: ``"row:<r>:<column name>"`` with ``r`` the 0-based data row (after the header), or
  ``"row:<r>:Yes|No|N/A"`` for a row's choice columns, to mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FileFormat(StrEnum):
    XLSX = "xlsx"
    DOCX = "docx"
    CSV = "csv"


class TargetRole(StrEnum):
    ANSWER = "answer"  # the main answer: a dropdown value (Yes/No/N/A) or the answer text
    NOTES = "notes"  # supporting text beside a Yes/No answer (comments, details, evidence)


@dataclass(frozen=True, slots=True)
class Target:
    """One place an answer is written to."""

    role: TargetRole
    ref: str
    #: The values a dropdown (data validation list) allows; empty when the cell is free text.
    allowed: tuple[str, ...] = ()
    #: What the place holds already (an answered questionnaire), or None when it is empty.
    current: str | None = None
    #: The most characters the form lets the place hold (a text-length rule, or a header such
    #: as "Comments (max 500 characters)"), or None.
    max_chars: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role.value, "ref": self.ref, "allowed": list(self.allowed),
                "current": self.current, "max_chars": self.max_chars}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        limit = data.get("max_chars")
        return cls(TargetRole(data["role"]), str(data["ref"]),
                   tuple(str(v) for v in data.get("allowed") or ()), data.get("current"),
                   int(limit) if limit else None)


@dataclass(frozen=True, slots=True)
class ExtractedQuestion:
    #: Unique within the file and stable across runs: the file's id when ids are unique,
    #: otherwise the question's location.
    key: str
    text: str
    #: The id the file gives the question ("GRC-01", "3.2"), when it has one.
    qid: str | None
    #: Section headings above the question, outermost first.
    section: tuple[str, ...]
    #: Where the question is, for people: "Security Questionnaire!C5", "table 2 row 4", ...
    location: str
    answer: Target | None = None
    notes: Target | None = None

    @property
    def targets(self) -> list[Target]:
        return [t for t in (self.answer, self.notes) if t is not None]


@dataclass(frozen=True, slots=True)
class SheetSummary:
    """One sheet (or table) of a file: how many questions were read from it, or why it was
    skipped ("hidden", "its questions are formulas copying 'Vendor Response'", ...)."""

    name: str
    questions: int = 0
    #: Why the sheet was not read, or None when its questions are in the extraction.
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "questions": self.questions, "skipped": self.skipped}


@dataclass(slots=True)
class Extraction:
    path: str
    format: FileFormat
    questions: list[ExtractedQuestion]
    #: What was detected, for people to check: per sheet/table the header row and the
    #: question, id, answer and notes columns (format specific, JSON-able).
    layout: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Per sheet of a workbook, in the workbook's order: its question count or why it was
    #: skipped (empty for formats without sheets).
    sheets: list[SheetSummary] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """Overrides for when detection is unsure. Columns are letters (XLSX) or header names."""

    sheet: str | None = None
    header_row: int | None = None  # 1-based
    question_column: str | None = None
    id_column: str | None = None
    answer_column: str | None = None
    notes_column: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


#: The values of a Yes/No answer place when the form has no dropdown to list them.
YES_NO_VALUES = ("Yes", "No", "N/A")

#: Text that a spreadsheet would run as a formula when it starts with one of these.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Make text safe to put in a cell: a leading formula character gets an apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
