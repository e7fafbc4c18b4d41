"""The nouns of a questionnaire file: what is read out of it, and what is written back.

They live below the stores and the configuration (which keep and bound them) and below the
questionnaire format layer (which makes them), so that neither imports the other.

Extraction turns a file into :class:`Extraction` (questions with their sections and the
places their answers go); write-back takes a mapping from answer places (:class:`Target`
refs) to text and writes a copy of the file with only those places changed.

A ``ref`` is the format's own address of an answer place ("Vendor!D5", "table:1:3:1",
"row:4:Answer"), opaque to everything but the format that made it (each format's package
says its grammar); what a place takes is its :class:`TargetKind` and ``allowed`` values.
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


class TargetKind(StrEnum):
    """How a value goes into an answer place; set by the reader that found the place."""

    #: Free text.
    TEXT = "text"
    #: One of ``allowed``, written as the place's text: a dropdown (a data-validation list, a
    #: Word dropdown control) or a column whose header or values say Yes/No/N/A.
    DROPDOWN = "dropdown"
    #: One cell per choice ("Yes | No | N/A" columns): the chosen one is marked.
    CHOICE_CELLS = "choice_cells"
    #: Labelled check boxes ("☐ Yes ☐ No"): the chosen one is ticked.
    CHECK_BOXES = "check_boxes"


def value_kind(allowed: tuple[str, ...]) -> TargetKind:
    """The kind of a place written as text: a dropdown when it lists values, else text."""
    return TargetKind.DROPDOWN if allowed else TargetKind.TEXT


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
    #: How a value goes in: text, one of ``allowed``, a marked choice cell, a ticked box.
    kind: TargetKind = TargetKind.TEXT

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role.value, "ref": self.ref, "kind": self.kind.value,
                "allowed": list(self.allowed), "current": self.current,
                "max_chars": self.max_chars}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        limit = data.get("max_chars")
        allowed = tuple(str(v) for v in data.get("allowed") or ())
        # A job stored before targets had a kind: a place with values to choose is a dropdown.
        kind = data.get("kind") or (TargetKind.DROPDOWN if allowed else TargetKind.TEXT)
        return cls(TargetRole(data["role"]), str(data["ref"]), allowed, data.get("current"),
                   int(limit) if limit else None, TargetKind(kind))


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
    #: The same place, typed, for citations: a workbook's sheet and the question's cell
    #: ("Vendor Response", "B12") and its row (12); a CSV's line; None where the file has
    #: no such grid (a Word document: ``location`` says "table 2 row 4").
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None

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


@dataclass(frozen=True, slots=True)
class PackageLimits:
    """How much a file may hold and cost to read, checked before (and while) a parser reads
    it: the package limits bound the file and its zip entries from the central directory,
    the work limits bound what the XML, text or PDF holds (counted while streaming it).
    Sized for real questionnaires and policy documents with room to spare (a 1,000-question
    workbook of 8 columns has ~9,000 cells; a 300-page policy at ~3,000 characters a page ~1 M
    characters); :class:`ddq.config.Settings` sets each from ``DDQ_MAX_*``."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_uncompressed_bytes: int = 400 * 1024 * 1024
    max_entries: int = 10_000
    max_ratio: float = 200.0  # uncompressed / compressed, over the whole package
    #: Worksheet cells (``<c>`` elements, empty ones too) over all sheets of a workbook.
    max_cells: int = 500_000
    #: Worksheet rows (``<row>`` elements) over all sheets.
    max_rows: int = 200_000
    #: Entries of a workbook's shared string table.
    max_shared_strings: int = 500_000
    #: Paragraphs of a Word document (body, tables, headers, footers, notes).
    max_paragraphs: int = 200_000
    #: XML elements of all parts of a package together (any kind of bloat).
    max_xml_elements: int = 5_000_000
    #: How deep elements nest in any XML part (Word nests ~8 levels per table).
    max_xml_depth: int = 128
    #: Characters of text (XML character data, decoded text files, PDF text).
    max_text_chars: int = 5_000_000
    #: Pages of a PDF.
    max_pages: int = 2_000
    #: Seconds the checks and the read of one file may take.
    parse_seconds: float = 30.0
    #: What the file is, for messages: "a questionnaire", "a knowledge file".
    purpose: str = "a questionnaire"


DEFAULT_LIMITS = PackageLimits()


#: The values of a Yes/No answer place when the form has no dropdown to list them.
YES_NO_VALUES = ("Yes", "No", "N/A")

#: Text that a spreadsheet would run as a formula when it starts with one of these.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Make text safe to put in a cell: a leading formula character gets an apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
