"""Excel questionnaires: find the questions in a workbook, and write answers into a copy.

Extraction reads the workbook with openpyxl (saved values of formula cells, merged cells, data
validations) plus the two things openpyxl does not give: dropdowns stored in the x14 extension
form (openpyxl drops them) and which cells hold formulas (``data_only`` hides them). Both are
read from the worksheet XML in the package.

Write-back never saves through openpyxl, which loses x14 dropdowns, images, charts and some
conditional formats. It copies the zip package entry by entry and rewrites only the worksheet
parts that hold answer cells, changing nothing in them but those cells (and the sheet's
``<dimension>`` when a written cell lies outside it).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import warnings
import zipfile
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Generic, TypeVar

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ddq.errors import DDQError, ErrorCode
from ddq.questionnaire.model import (
    ExtractedQuestion,
    Extraction,
    ExtractOptions,
    FileFormat,
    Target,
    TargetRole,
    neutralise,
)
from ddq.questionnaire.output import output_mode, refuse_overwrite, temporary_beside
from ddq.questionnaire.package import DEFAULT_LIMITS, PackageLimits, check_package
from ddq.questionnaire.sheets import (
    SheetEvidence,
    SheetRead,
    answers_below,
    choose_sheets,
    unanswerable_error,
)
from ddq.questionnaire.table_text import (
    choice_columns,
    choice_marks,
    depth,
    is_marked,
    is_placeholder,
    looks_like_question,
    marked_row,
    numbered_inside,
    section_numbers,
    split_written_number,
    stated_limit,
)

_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
_XM = "http://schemas.microsoft.com/office/excel/2006/main"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_MAX_COLUMN = 16_384
_MAX_ROW = 1_048_576
_MAX_CELL_TEXT = 32_767  # what one Excel cell holds
_HEADER_SCAN_ROWS = 30
_MAX_LIST_VALUES = 500  # a dropdown source range longer than this is not a real answer list

CellKey = tuple[int, int]  # (row, column), both 1-based
Bounds = tuple[int, int, int, int]  # min_row, min_col, max_row, max_col


# --- text helpers ----------------------------------------------------------------------------


def _text(value: object) -> str:
    """A cell's saved value as the text Excel would show for it (without number formats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _clean(value: object) -> str:
    """Cell text with runs of whitespace (line breaks included) folded to one space."""
    return " ".join(_text(value).split())


def _cell_name(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def _why(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


# --- header vocabulary -----------------------------------------------------------------------

_ID_HEADER = re.compile(
    r"(?:(?:question|ques|control|item|requirement|req|q|row|line|serial)\s*)?"
    r"(?:id|ref\.?|reference|#|no\.?|nr\.?|number|num|s/n)(?:\s*(?:#|no\.?|number|id))?"
)
_QUESTION_HEADER = re.compile(
    r"(?:(?:control|security|assessment|vendor|audit|due diligence)\s+)?"
    r"(?:questions?|question text|question description|requirements?|requirement text"
    r"|quer(?:y|ies)|items?|prompt|control description|control question)"
)
_ANSWER_HEADER = re.compile(
    r"(?:(?:vendor|supplier|provider|service provider|bidder|your|company|respondent)"
    r"(?:'s)?\s+)?"
    r"(?:responses?|answers?|reply|compliant|compliance|compliance status|status"
    r"|yes/no|y/n|yes/no/n/?a|yes/no/partial|implemented|in place|selection)"
)
_NOTES_HEADER = re.compile(
    r"(?:(?:vendor|supplier|additional|supporting|response|further|other|csp|provider)\s+)?"
    r"(?:comments?|notes?|details?|explanations?|additional information|additional info"
    r"|implementation (?:description|details|statement|notes)"
    r"|information|evidence|justification|remarks?|supporting|supporting evidence"
    r"|supporting information|supporting documentation|documentation|clarification"
    r"|rationale|commentary|elaboration)"
)
_SECTION_HEADER = re.compile(
    r"(?:(?:control|question|security|ccm)\s+)?"
    r"(?:domain|section|category|area|topic|family|group|sub-?domain|sub-?category|chapter)"
    r"(?:\s+(?:name|title))?"
)
_NOTES_WORDS = re.compile(
    r"\b(?:comments?|notes?|details?|explanation|evidence|justification|remarks?|supporting"
    r"|additional information|clarification|rationale)\b"
)
_ANSWER_WORDS = re.compile(r"\b(?:responses?|answers?)\b")
_ROLE_PATTERNS = (
    ("id", _ID_HEADER),
    ("section", _SECTION_HEADER),
    ("answer", _ANSWER_HEADER),
    ("question", _QUESTION_HEADER),
    ("notes", _NOTES_HEADER),
)
_PART_SEPARATOR = re.compile(r"\s*(?:/|&|\||,|\band\b|\bor\b)\s*")


def _norm_header(text: str) -> str:
    lowered = " ".join(text.split()).casefold()
    lowered = re.sub(r"\s*\([^)]*\)\s*$", "", lowered)  # "Response (Yes/No/N/A)"
    lowered = lowered.rstrip(":*. ").strip()
    return re.sub(r"\s*/\s*", "/", lowered)


def _exact_role(text: str) -> str | None:
    for role, pattern in _ROLE_PATTERNS:
        if pattern.fullmatch(text):
            return role
    return None


def header_role(text: str) -> str | None:
    """What a header cell names: "id", "question", "answer", "notes", "section", or None.

    Matches the whole header first, then each part of a compound header ("Comments /
    Evidence"), then looks for a telling word, so that titles above the header do not match.
    """
    norm = _norm_header(text)
    if not norm or len(norm) > 60:
        return None
    role = _exact_role(norm)
    if role is not None:
        return role
    for part in _PART_SEPARATOR.split(norm):
        role = _exact_role(part) if part else None
        if role is not None:
            return role
    if _NOTES_WORDS.search(norm):
        return "notes"
    if _ANSWER_WORDS.search(norm):
        return "answer"
    return None


# --- content heuristics ----------------------------------------------------------------------

_ID_LIKE = re.compile(r"[A-Za-z]{0,8}[-_. ]?\d+(?:[.\-]\d+)*[a-z]?\.?|\d+(?:\.\d+)*\.?")
_NUMBERED_HEADING = re.compile(r"(\d+(?:\.\d+)*)[.)]?\s+\S")
_YES_NO_VALUES = frozenset(
    {
        "yes",
        "no",
        "n/a",
        "na",
        "n.a.",
        "not applicable",
        "partial",
        "partially",
        "partly",
        "y",
        "n",
        "true",
        "false",
        "compliant",
        "non-compliant",
        "not compliant",
        "partially compliant",
        "in progress",
        "planned",
    }
)


def _heading_like(text: str, bold: bool) -> bool:
    """Short label text: a section heading rather than an instruction sentence."""
    if not text or text.endswith("?"):
        return False
    if bold:
        return len(text) <= 120
    return len(text) <= 80 and len(text.split()) <= 10 and not text.endswith((".", ";", ","))


def _heading_level(text: str) -> int | None:
    match = _NUMBERED_HEADING.match(text)
    return match.group(1).count(".") + 1 if match else None


# --- the package -------------------------------------------------------------------------------


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _resolve_target(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target)).lstrip("/")


@dataclass(frozen=True, slots=True)
class _SheetPart:
    name: str
    part: str  # the zip entry, e.g. "xl/worksheets/sheet1.xml"
    worksheet: bool  # False for chart and dialog sheets
    state: str


def _workbook_rels(package: zipfile.ZipFile) -> tuple[str, dict[str, tuple[str, str]]]:
    """The workbook part, and its relationships: id → (type, part)."""
    workbook_part = "xl/workbook.xml"
    for rel in SafeET.fromstring(package.read("_rels/.rels")):
        if rel.get("Type", "").endswith("/officeDocument"):
            workbook_part = _resolve_target("", rel.get("Target", ""))
    base = posixpath.dirname(workbook_part)
    rels_part = posixpath.join(base, "_rels", posixpath.basename(workbook_part) + ".rels")
    targets = {
        rel.get("Id", ""): (rel.get("Type", ""), _resolve_target(base, rel.get("Target", "")))
        for rel in SafeET.fromstring(package.read(rels_part))
    }
    return workbook_part, targets


def _sheet_parts(package: zipfile.ZipFile) -> list[_SheetPart]:
    """Sheet name → worksheet part, via the workbook part and its relationships."""
    workbook_part, targets = _workbook_rels(package)
    sheets = []
    for element in SafeET.fromstring(package.read(workbook_part)).iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), "")
        kind, part = targets.get(rid, ("", ""))
        sheets.append(
            _SheetPart(
                element.get("name", ""),
                part,
                kind.endswith("/worksheet"),
                element.get("state", "visible"),
            )
        )
    return sheets


@dataclass(slots=True)
class _SheetXml:
    """What openpyxl does not tell: x14 list dropdowns and the cells that hold formulas."""

    x14_lists: list[tuple[str, str]] = field(default_factory=list)  # (formula, sqref)
    formula_cells: set[str] = field(default_factory=set)
    #: Cell → its formula's text; a shared formula's copies get the text of its first cell
    #: (which sheets it refers to is the same in every copy).
    formulas: dict[str, str] = field(default_factory=dict)


def _scan_sheet_xml(data: bytes) -> _SheetXml:
    found = _SheetXml()
    shared: dict[str, str] = {}
    for _event, element in SafeET.iterparse(io.BytesIO(data), events=("end",)):
        tag = element.tag
        if tag == f"{{{_X14}}}dataValidation":
            formula = element.find(f"{{{_X14}}}formula1/{{{_XM}}}f")
            sqref = element.find(f"{{{_XM}}}sqref")
            if element.get("type") == "list" and formula is not None and sqref is not None:
                found.x14_lists.append(((formula.text or "").strip(), (sqref.text or "").strip()))
        elif _local(tag) == "c":
            formula = next((child for child in element if _local(child.tag) == "f"), None)
            if element.get("r") and formula is not None:
                ref = str(element.get("r")).upper()
                found.formula_cells.add(ref)
                text = formula.text or ""
                index = formula.get("si")
                if index is not None and text:
                    shared[index] = text
                found.formulas[ref] = text or shared.get(index or "", "")
            element.clear()
        elif _local(tag) == "row":
            element.clear()
    return found


def _read_sheet_xml(path: Path, names: list[str]) -> dict[str, _SheetXml]:
    try:
        with zipfile.ZipFile(path) as package:
            parts = {s.name: s for s in _sheet_parts(package)}
            return {
                name: _scan_sheet_xml(package.read(parts[name].part))
                for name in names
                if name in parts and parts[name].worksheet
            }
    except DefusedXmlException as exc:
        raise DDQError(
            ErrorCode.UNSAFE_FILE, f"{path}: unsafe XML in the workbook ({_why(exc)})"
        ) from exc
    except (KeyError, ValueError, SyntaxError, OSError, zipfile.BadZipFile) as exc:
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"{path}: corrupt XLSX package ({_why(exc)})"
        ) from exc


def _open_workbook(path: Path) -> Workbook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Data Validation extension is not supported"
            return load_workbook(path, data_only=True)
    except DefusedXmlException as exc:
        raise DDQError(
            ErrorCode.UNSAFE_FILE, f"{path}: unsafe XML in the workbook ({_why(exc)})"
        ) from exc
    except Exception as exc:  # openpyxl raises a wide range of errors on a damaged file
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"{path}: not a readable XLSX workbook ({_why(exc)})"
        ) from exc


# --- dropdowns -------------------------------------------------------------------------------

_RANGE_REF = re.compile(
    r"(?:(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!\[\]]+))!)?"
    r"(?P<range>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})"
)


class _ListResolver:
    """Turns a list validation's formula into the values it offers, from the saved values."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._cache: dict[tuple[str, str], tuple[str, ...] | None] = {}

    def values(self, formula: str, sheet: str) -> tuple[str, ...] | None:
        key = (formula, sheet)
        if key not in self._cache:
            self._cache[key] = self._resolve(formula.strip().lstrip("="), sheet, depth=0)
        return self._cache[key]

    def _resolve(self, formula: str, sheet: str, depth: int) -> tuple[str, ...] | None:
        if formula.startswith('"') and formula.endswith('"') and len(formula) >= 2:
            items = formula[1:-1].replace('""', '"').split(",")
            return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
        match = _RANGE_REF.fullmatch(formula)
        if match:
            name = match.group("quoted")
            name = name.replace("''", "'") if name else (match.group("plain") or sheet)
            return self._range_values(name.strip(), match.group("range"))
        if depth < 3 and re.fullmatch(r"[A-Za-z_\\][\w.\\]*", formula):
            target = self._defined_name(formula, sheet)
            return self._resolve(target, sheet, depth + 1) if target else None
        return None

    def _defined_name(self, name: str, sheet: str) -> str | None:
        scopes: list[Any] = []
        if sheet in self._workbook.sheetnames:
            scopes.append(getattr(self._workbook[sheet], "defined_names", {}))
        scopes.append(self._workbook.defined_names)
        for scope in scopes:
            for key, defined in scope.items():
                if key.casefold() == name.casefold() and defined.attr_text:
                    return str(defined.attr_text).lstrip("=")
        return None

    def _range_values(self, sheet: str, cells: str) -> tuple[str, ...] | None:
        if sheet not in self._workbook.sheetnames:
            return None
        worksheet = self._workbook[sheet]
        if not isinstance(worksheet, Worksheet):
            return None
        min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
        min_row = min_row or 1
        max_row = min(max_row or worksheet.max_row, worksheet.max_row)
        if min_col is None or max_col is None:
            return None
        if (max_row - min_row + 1) * (max_col - min_col + 1) > _MAX_LIST_VALUES:
            return None
        found: dict[str, None] = {}
        for row in worksheet.iter_rows(
            min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True
        ):
            for value in row:
                text = _text(value).strip()
                if text:
                    found[text] = None
        return tuple(found)


_Rule = TypeVar("_Rule")


class _Dropdowns(Generic[_Rule]):
    """Which rule (a dropdown's list values, a text-length limit) applies to a cell, indexed
    by column for quick lookups."""

    def __init__(self, max_row: int, max_column: int) -> None:
        self._max_row = max_row
        self._max_column = max_column
        self._by_column: dict[int, list[tuple[int, int, _Rule | None]]] = {}

    def add(self, sqref: str, values: _Rule | None) -> None:
        for piece in sqref.replace("$", "").split():
            try:
                min_col, min_row, max_col, max_row = range_boundaries(piece)
            except (ValueError, TypeError):
                continue
            first_col, last_col = min_col or 1, min(max_col or self._max_column, _MAX_COLUMN)
            last_col = min(last_col, max(self._max_column, first_col))
            for column in range(first_col, last_col + 1):
                self._by_column.setdefault(column, []).append(
                    (min_row or 1, max_row or _MAX_ROW, values)
                )

    def at(self, row: int, column: int) -> _Rule | None:
        for first, last, values in self._by_column.get(column, ()):
            if first <= row <= last:
                return values
        return None

    def __bool__(self) -> bool:
        return bool(self._by_column)


# --- one sheet -------------------------------------------------------------------------------


class _SkipSheet(Exception):
    """A sheet that yields no questions, with the reason for the warnings."""

    def __init__(self, detail: str, code: ErrorCode = ErrorCode.NO_QUESTIONS) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(slots=True)
class _Columns:
    header_row: int | None
    question: int
    id: int | None = None
    answer: int | None = None
    notes: int | None = None
    section: int | None = None
    answer_from_notes: bool = False  # a notes-like column used as the free-text answer
    #: Columns headed by the choices themselves ("Yes | No | N/A"), marked with an X: the
    #: answer place when the form has no answer column. (column, header label), in order.
    choices: tuple[tuple[int, str], ...] = ()
    #: A second header row under the first ("Vendor Response" over "Yes/No | Comments").
    sub_header_row: int | None = None

    @property
    def last_header_row(self) -> int:
        return self.sub_header_row or self.header_row or 0

    def roles(self) -> dict[str, int | None]:
        first = self.choices[0][0] if self.choices else None
        last = self.choices[-1][0] if self.choices else None
        return {"id": self.id, "answer": self.answer, "notes": self.notes, "section": self.section,
                "choices": first, "last choice": last}


@dataclass(slots=True)
class _Found:
    """A question before its key is known (keys depend on every sheet)."""

    sheet: str
    text: str
    qid: str | None
    section: tuple[str, ...]
    cell: str
    answer: Target | None
    notes: Target | None


_SPEC_LETTERS = re.compile(r"\$?([A-Za-z]{1,3})")


class _SheetReader:
    """Finds the columns of one sheet, then walks its rows for headings and questions."""

    def __init__(
        self,
        worksheet: Worksheet,
        xml: _SheetXml,
        options: ExtractOptions,
        lists: _ListResolver,
        warnings_out: list[str],
    ) -> None:
        self.ws = worksheet
        self.name = worksheet.title
        self.xml = xml
        self.options = options
        self.warnings = warnings_out
        self.values = self._read_values()
        self.by_row: dict[int, dict[int, object]] = {}
        for (row, column), value in sorted(self.values.items()):
            self.by_row.setdefault(row, {})[column] = value
        self.row_numbers = sorted(self.by_row)
        self.merged = self._read_merges()
        self.dropdowns = self._read_dropdowns(lists)
        self.limits = self._read_limits()
        self.header_rows: tuple[int, ...] = ()  # the header row(s), once find_columns has run
        self.last_section = ""  # the section column's value for the rows below it

    # reading ------------------------------------------------------------------------------

    def _read_values(self) -> dict[CellKey, object]:
        """Non-empty saved values by (row, column); sparse, so a huge empty sheet is cheap."""
        cells = getattr(self.ws, "_cells", None)
        if isinstance(cells, dict):
            items = ((key, cell.value) for key, cell in cells.items())
        else:  # pragma: no cover - openpyxl internals changed
            items = (((c.row, c.column), c.value) for row in self.ws.iter_rows() for c in row)
        return {key: value for key, value in items if value is not None and _text(value).strip()}

    def _read_merges(self) -> dict[CellKey, Bounds]:
        merged: dict[CellKey, Bounds] = {}
        for cell_range in self.ws.merged_cells.ranges:
            bounds = (
                cell_range.min_row,
                cell_range.min_col,
                cell_range.max_row,
                cell_range.max_col,
            )
            for row in range(bounds[0], min(bounds[2], self.ws.max_row) + 1):
                for column in range(bounds[1], min(bounds[3], self.ws.max_column) + 1):
                    merged[(row, column)] = bounds
        return merged

    def _read_limits(self) -> _Dropdowns[int]:
        """Text-length rules ("at most 500 characters") by cell."""
        limits: _Dropdowns[int] = _Dropdowns(self.ws.max_row, self.ws.max_column)
        for dv in self.ws.data_validations.dataValidation:
            if dv.type != "textLength":
                continue
            bound = {"lessThanOrEqual": dv.formula1, "lessThan": dv.formula1,
                     "between": dv.formula2}.get(dv.operator or "between")
            if bound is not None and str(bound).strip().isdigit():
                limit = int(str(bound).strip()) - (1 if dv.operator == "lessThan" else 0)
                if limit > 0:
                    limits.add(str(dv.sqref), limit)
        return limits

    def _read_dropdowns(self, lists: _ListResolver) -> _Dropdowns[tuple[str, ...]]:
        dropdowns: _Dropdowns[tuple[str, ...]] = _Dropdowns(self.ws.max_row, self.ws.max_column)
        sources = [
            (str(dv.formula1 or ""), str(dv.sqref))
            for dv in self.ws.data_validations.dataValidation
            if dv.type == "list"
        ]
        for formula, sqref in sources + self.xml.x14_lists:
            values = lists.values(formula, self.name)
            if values is None:
                self.warnings.append(
                    f"sheet {self.name!r}: the dropdown on {sqref} uses {formula!r}, which DDQ "
                    "cannot resolve; its values are not checked"
                )
            dropdowns.add(sqref, values)
        return dropdowns

    def top_left(self, row: int, column: int) -> CellKey:
        bounds = self.merged.get((row, column))
        return (bounds[0], bounds[1]) if bounds else (row, column)

    def value(self, row: int, column: int) -> object:
        """The saved value, read from the top-left cell when the cell is merged."""
        return self.values.get(self.top_left(row, column))

    def bold(self, key: CellKey) -> bool:
        return bool(self.ws.cell(row=key[0], column=key[1]).font.b)

    def style_of(self, key: CellKey) -> tuple[object, ...]:
        cell = self.ws.cell(row=key[0], column=key[1])
        bounds = self.merged.get(key)
        width = bounds[3] - bounds[1] if bounds else 0
        return (bool(cell.font.b), cell.font.sz, str(cell.fill.fgColor.rgb), width)

    # columns ------------------------------------------------------------------------------

    def header_cells(self, row: int) -> dict[int, str]:
        return {c: _clean(v) for c, v in self.by_row.get(row, {}).items()}

    def find_columns(self) -> _Columns:
        header_row = self._find_header_row()
        header = self.header_cells(header_row) if header_row else {}
        sub_row, sub = self._sub_header(header_row)
        self.header_rows = tuple(r for r in (header_row, sub_row) if r)
        choices = choice_columns(header) or choice_columns(sub)
        roles: dict[str, int] = {}
        # The second header row names what the first leaves general ("Vendor Response" over
        # "Yes/No/N/A | Comments"), so its roles come first.
        for cells in (sub, header):
            for column in sorted(cells):
                if any(column == c for c, _ in choices):
                    continue  # "No" beside "Yes" is a choice, not the number column
                role = header_role(cells[column])
                if role is not None and role not in roles and column not in roles.values():
                    roles[role] = column
        columns = _Columns(
            header_row,
            roles.get("question", 0),
            roles.get("id"),
            roles.get("answer"),
            roles.get("notes"),
            roles.get("section"),
            sub_header_row=sub_row,
        )
        if choices and not self.options.answer_column:
            # "Yes | No | N/A | Response": the marks are the verdict, the response its text.
            if columns.answer is not None:
                columns.answer, columns.notes = None, columns.answer
            if columns.answer is None:
                columns.choices = choices
        self._apply_overrides(columns, header)
        if not columns.question:
            columns.question = self._question_column_by_content(columns) or 0
        if not columns.question and header_row is None:
            raise _SkipSheet(
                f"sheet {self.name!r}: no header row naming a question column "
                "and no column that reads like questions; skipped"
            )
        if not columns.question:
            seen = ", ".join(repr(h) for h in header.values())
            raise _SkipSheet(
                f"sheet {self.name!r}: no question column in header row "
                f"{header_row} (cells: {seen}); skipped"
            )
        if header_row is None:
            self._detect_without_header(columns)
        elif columns.id is None and not self.options.id_column:
            # A blank header over short codes ("DOCU-01") left of the questions.
            columns.id = self._id_column_by_content(columns)
        if columns.answer is None and columns.notes is not None and not columns.choices:
            columns.answer, columns.notes, columns.answer_from_notes = columns.notes, None, True
        return columns

    def _sub_header(self, header_row: int | None) -> tuple[int | None, dict[int, str]]:
        """The row under the header when it is a second header row: every cell in it names
        a column or a choice, and none asks anything."""
        if header_row is None or self.options.header_row is not None:
            return None, {}
        below = header_row + 1
        cells = {c: t for c, t in self.header_cells(below).items() if t}
        named = [c for c, t in cells.items() if header_role(t) is not None]
        if not cells or any(looks_like_question(t) for t in cells.values()):
            return None, {}
        choices = {c for c, _ in choice_columns(cells)}
        if all(c in choices or c in named for c in cells):
            return below, cells
        return None, {}

    def _find_header_row(self) -> int | None:
        if self.options.header_row is not None:
            if self.options.header_row not in self.row_numbers:
                raise _SkipSheet(
                    f"sheet {self.name!r}: header row {self.options.header_row} is empty; skipped",
                    ErrorCode.INVALID_INPUT,
                )
            return self.options.header_row
        specs = [s for s in self._override_specs() if not _SPEC_LETTERS.fullmatch(s.strip())]
        best, best_score = None, 0
        for row in self.row_numbers[:_HEADER_SCAN_ROWS]:
            cells = self.header_cells(row)
            if specs:
                lowered = {_clean(t).casefold() for t in cells.values()}
                if all(_clean(s).casefold() in lowered for s in specs):
                    return row
                continue
            roles = {header_role(t) for t in cells.values()} - {None}
            score = len(roles) + (2 if "question" in roles else 0)
            if score > best_score and ("question" in roles or len(roles) >= 2):
                best, best_score = row, score
        return best

    def _override_specs(self) -> list[str]:
        o = self.options
        return [s for s in (o.question_column, o.id_column, o.answer_column, o.notes_column) if s]

    def _apply_overrides(self, columns: _Columns, header: dict[int, str]) -> None:
        o = self.options
        for role, spec in (
            ("question", o.question_column),
            ("id", o.id_column),
            ("answer", o.answer_column),
            ("notes", o.notes_column),
        ):
            if spec:
                column = self._column_of(spec, header)
                for other, at in columns.roles().items():  # one column, one role
                    if at == column and other != role:
                        setattr(columns, other, None)
                setattr(columns, role, column)

    def _column_of(self, spec: str, header: dict[int, str]) -> int:
        wanted = _clean(spec).casefold()
        for column, text in sorted(header.items()):
            if text.casefold() == wanted:
                return column
        letters = _SPEC_LETTERS.fullmatch(spec.strip())
        if letters:
            column = column_index_from_string(letters.group(1).upper())
            if column <= _MAX_COLUMN:
                return column
        seen = ", ".join(repr(h) for h in header.values()) or "none"
        raise _SkipSheet(
            f"sheet {self.name!r}: no column {spec!r} (give a column letter or a "
            f"header; header cells seen: {seen}); skipped",
            ErrorCode.INVALID_INPUT,
        )

    def _question_column_by_content(self, columns: _Columns) -> int | None:
        """The column whose cells most look like questions, for a sheet without a header."""
        start = columns.last_header_row + 1
        taken = {c for c in columns.roles().values() if c}
        asked: Counter[int] = Counter()
        filled: Counter[int] = Counter()
        for (row, column), value in self.values.items():
            if row < start or column in taken:
                continue
            filled[column] += 1
            if looks_like_question(_clean(value)):
                asked[column] += 1
        for column, count in asked.most_common():
            if count >= 3 and count * 2 >= filled[column]:
                return column
        return None

    def _id_column_by_content(self, columns: _Columns,
                              question_rows: list[int] | None = None) -> int | None:
        """The column left of the questions whose cells are short codes in at least half of
        the question rows, and whose header (if any) names nothing else."""
        if question_rows is None:
            question_rows = [r for (r, c), v in self.values.items()
                             if c == columns.question and r > columns.last_header_row
                             and looks_like_question(_clean(v))]
        taken = {c for c in columns.roles().values() if c}
        header = self.header_cells(columns.header_row) if columns.header_row else {}
        for column in range(1, columns.question):
            if column in taken or header.get(column):
                continue
            ids = sum(1 for r in question_rows
                      if _ID_LIKE.fullmatch(_clean(self.values.get((r, column)))))
            if question_rows and ids * 2 >= len(question_rows):
                return column
        return None

    def _detect_without_header(self, columns: _Columns) -> None:
        """No header: ids are short codes left of the questions; answers have a dropdown."""
        question_rows = [
            r
            for (r, c), v in self.values.items()
            if c == columns.question and looks_like_question(_clean(v))
        ]
        if columns.id is None:
            columns.id = self._id_column_by_content(columns, question_rows)
        if columns.answer is None and self.dropdowns:
            for column in range(columns.question + 1, self.ws.max_column + 1):
                if any(self.dropdowns.at(r, column) for r in question_rows):
                    columns.answer = column
                    break

    # rows ---------------------------------------------------------------------------------

    def read(self) -> tuple[list[_Found], dict[str, Any]]:
        columns = self.find_columns()
        found: list[_Found] = []
        headings = _Headings()
        rows = [r for r in self.row_numbers
                if columns.header_row is None or r > columns.last_header_row]
        parents = {rows[i] for i in section_numbers([self.qid(r, columns) for r in rows])}
        kinds: list[str] = []  # per row with text in the question column, for answers_below
        for row in rows:
            kind, text, key = self._classify(row, columns, row in parents)
            if _clean(self.value(row, columns.question)):
                plain = kind == "skip" or (kind == "heading" and not self.bold(key)
                                           and (row, columns.question) not in self.merged)
                kinds.append("question" if kind == "question" else "text" if plain else kind)
            if kind == "heading":
                level = _heading_level(text)
                if level is None and row in parents:  # "1.2 | Encryption" is at level 2
                    level = depth(self.qid(row, columns))
                headings.add(text, level, self.style_of(key),
                             self.qid(row, columns) if row in parents else None)
            elif kind == "question":
                path = headings.path(self.qid(row, columns))
                found.append(self._question(row, key, text, columns, path))
                headings.question_seen()
        if columns.answer is None and not columns.choices and answers_below(kinds):
            raise _SkipSheet(
                f"sheet {self.name!r}: its answers are written in the question column, under "
                "each question, so they cannot be told from the questions; skipped")
        if columns.answer is None and not columns.choices and found:
            self.warnings.append(
                f"sheet {self.name!r}: no answer column found; its questions are listed "
                "without a place for the answers (name one with --answer-column)"
            )
        return found, self._layout(columns, found)

    def _classify(self, row: int, columns: _Columns, parent: bool = False
                  ) -> tuple[str, str, CellKey]:
        """("question" | "heading" | "skip", text, cell) for one row with content.

        ``parent`` says the row's id numbers the section of the next id ("1 | Access
        Control" above "1.1"): a label there is a heading, not a question.
        """
        skip = ("skip", "", (row, 0))
        bounds = self.merged.get((row, columns.question))
        if bounds is not None:
            if bounds[0] != row:
                return skip  # the lower part of a merge that started above
            if self._covers_role_column(bounds, columns):
                key = (bounds[0], bounds[1])
                text = _clean(self.values.get(key))
                return ("heading", text, key) if _heading_like(text, self.bold(key)) else skip
        key = self.top_left(row, columns.question)
        text = _clean(self.values.get(key))
        qid = self.qid(row, columns)
        if text:
            if (parent and not looks_like_question(text) and not self._answered(row, columns)
                    and _heading_like(text, self.bold(key))):
                return ("heading", text, key)
            if qid or self._answered(row, columns):
                return ("question", text, key)
            if looks_like_question(text) and (columns.id is None or text.endswith("?")):
                return ("question", text, key)
            return ("heading", text, key) if _heading_like(text, self.bold(key)) else skip
        lone = [(c, _clean(v)) for c, v in self.by_row.get(row, {}).items()]
        if len(lone) == 1 and lone[0][0] <= columns.question and lone[0][0] != columns.section:
            key = (row, lone[0][0])
            if _heading_like(lone[0][1], self.bold(key)):
                return ("heading", lone[0][1], key)
        return skip

    def _covers_role_column(self, bounds: Bounds, columns: _Columns) -> bool:
        others = [c for c in columns.roles().values() if c and c != columns.question]
        return any(bounds[1] <= c <= bounds[3] for c in others)

    def _answered(self, row: int, columns: _Columns) -> bool:
        if columns.choices:
            return any(is_marked(_clean(self.value(row, c))) for c, _ in columns.choices)
        if columns.answer is None or columns.answer_from_notes:
            return False
        bounds = self.merged.get((row, columns.answer))
        if bounds is not None and bounds[1] <= columns.question <= bounds[3]:
            return False
        value = _clean(self.value(row, columns.answer))
        return bool(value) and not is_placeholder(value)

    def qid(self, row: int, columns: _Columns) -> str:
        if columns.id is None or columns.id == columns.question:
            return ""
        text = _clean(self.value(row, columns.id))
        return text if len(text) <= 40 else ""

    def _question(
        self, row: int, key: CellKey, text: str, columns: _Columns, headings: tuple[str, ...]
    ) -> _Found:
        section = headings
        if columns.section is not None:
            # A blank section cell continues the group above ("Access Control" written once).
            value = _clean(self.value(row, columns.section)) or self.last_section
            self.last_section = value
            if value and (not section or section[-1] != value):
                section = (*section, value)
        answer = (self._choice_target(row, columns.choices, key) if columns.choices
                  else self._target(TargetRole.ANSWER, row, columns.answer, key))
        notes = self._target(TargetRole.NOTES, row, columns.notes, key)
        qid = self.qid(row, columns) or None
        if qid is None:  # "1.2 Do you ...": the number written before the question is its id
            written, rest = split_written_number(text)
            if written is not None and any(c.isdigit() for c in written):
                qid, text = written, rest
        return _Found(
            self.name,
            text,
            qid,
            section,
            _cell_name(*key),
            answer,
            notes,
        )

    def _target(
        self, role: TargetRole, row: int, column: int | None, question: CellKey
    ) -> Target | None:
        if column is None:
            return None
        cell = self.top_left(row, column)
        if cell == question or (cell[1] < column and cell[1] <= question[1]):
            return None  # the place is merged into the question itself
        name = _cell_name(*cell)
        if name in self.xml.formula_cells:
            self.warnings.append(f"{self.name}!{name} holds a formula; DDQ leaves it alone")
            return None
        current = _text(self.values.get(cell))
        if is_placeholder(current):
            current = ""  # "Please select", "[Enter comments]": the place is still empty
        header = " ".join(_clean(self.values.get((row, column))) for row in self.header_rows)
        limits = [n for n in (self.limits.at(*cell), stated_limit(header)) if n]
        return Target(
            role,
            f"{self.name}!{name}",
            self.dropdowns.at(*cell) or (),
            current if current.strip() else None,
            min(limits) if limits else None,
        )

    def _choice_target(self, row: int, choices: tuple[tuple[int, str], ...], question: CellKey
                       ) -> Target | None:
        """One answer place over the row's choice cells ("Sheet!C5:E5"); its allowed values
        are the choices' headers, and the marked one is what the file holds already."""
        cells = [(row, column) for column, _ in choices]
        if any(self.top_left(*cell) != cell for cell in cells):
            self.warnings.append(f"{self.name}: row {row}'s choice cells are merged; DDQ leaves "
                                 "them alone")
            return None
        if question[1] in {column for column, _ in choices}:
            return None
        names = [_cell_name(*cell) for cell in cells]
        if any(name in self.xml.formula_cells for name in names):
            self.warnings.append(f"{self.name}!{names[0]}:{names[-1]} holds a formula; DDQ "
                                 "leaves it alone")
            return None
        marked = [label for (column, label) in choices
                  if is_marked(_clean(self.value(row, column)))]
        return Target(TargetRole.ANSWER, f"{self.name}!{names[0]}:{names[-1]}",
                      tuple(label for _, label in choices), marked[0] if marked else None)

    def _layout(self, columns: _Columns, found: list[_Found]) -> dict[str, Any]:
        def letter(column: int | None) -> str | None:
            return get_column_letter(column) if column else None

        answers = [f.answer for f in found if f.answer is not None and not columns.choices]
        lists = Counter(a.allowed for a in answers if a.allowed)
        currents = [a.current.strip().casefold() for a in answers if a.current]
        yes_no = (
            not lists
            and not columns.answer_from_notes
            and bool(currents)
            and all(c in _YES_NO_VALUES for c in currents)
        )
        return {
            "header_row": columns.header_row,
            "question": letter(columns.question),
            "id": letter(columns.id),
            "answer": letter(columns.answer),
            "notes": letter(columns.notes),
            "section": letter(columns.section),
            "answer_is_free_text_column": columns.answer_from_notes,
            "choices": {letter(c): label for c, label in columns.choices} or None,
            "questions": len(found),
            "dropdown": list(lists.most_common(1)[0][0]) if lists else None,
            "yes_no_column": yes_no,
        }


class _Headings:
    """The path of section headings above the current row.

    Numbered headings ("2.1 Passwords") nest by their numbering. Otherwise headings that look
    alike are one level, and a new look right after a heading is one level deeper.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[str, str | None]] = []
        self._levels: dict[tuple[object, ...], int] = {}
        self._after_heading = False

    def add(self, text: str, numbered: int | None, style: tuple[object, ...],
            qid: str | None = None) -> None:
        """``qid``: the id that numbers the section ("1.2"), when it has one."""
        level = numbered or self._levels.get(style)
        if level is None:
            level = len(self._stack) + 1 if self._after_heading else max(len(self._stack), 1)
            self._levels[style] = level
        self._stack = [*self._stack[: level - 1], (text, qid)]
        self._after_heading = True

    def question_seen(self) -> None:
        self._after_heading = False

    def path(self, qid: str = "") -> tuple[str, ...]:
        """The headings above a question; a numbered section whose number does not contain
        the question's id ("1.2" above question "2") has ended, with those below it."""
        path: list[str] = []
        for text, number in self._stack:
            if number is not None and qid and not numbered_inside(number, qid):
                break
            path.append(text)
        return tuple(path)


# --- extraction ------------------------------------------------------------------------------


def _choose_sheets(
    workbook: Workbook, options: ExtractOptions, skipped: dict[str, str]
) -> list[Worksheet]:
    if options.sheet is None:
        chosen = []
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                skipped[sheet.title] = sheet.sheet_state  # left untouched, never read
            elif isinstance(sheet, Worksheet):
                chosen.append(sheet)
        return chosen
    names = workbook.sheetnames
    match = next((n for n in names if n == options.sheet), None) or next(
        (n for n in names if n.casefold() == options.sheet.strip().casefold()), None
    )
    if match is None:
        listed = ", ".join(repr(n) for n in names)
        raise DDQError(
            ErrorCode.INVALID_INPUT, f"no sheet named {options.sheet!r}; the sheets are {listed}"
        )
    sheet = workbook[match]
    if not isinstance(sheet, Worksheet):
        raise DDQError(ErrorCode.INVALID_INPUT, f"sheet {match!r} is a chart, not a worksheet")
    return [sheet]


def _assign_keys(found: list[_Found]) -> list[ExtractedQuestion]:
    """The id when it is unique in the file, "<sheet>!<id>" when unique in its sheet, else
    the question's cell: stable across runs and unique within the file."""
    in_file = Counter(f.qid for f in found if f.qid)
    in_sheet = Counter((f.sheet, f.qid) for f in found if f.qid)
    used: set[str] = set()
    questions = []
    for item in found:
        location = f"{item.sheet}!{item.cell}"
        key = location
        if item.qid and in_file[item.qid] == 1:
            key = item.qid
        elif item.qid and in_sheet[(item.sheet, item.qid)] == 1:
            key = f"{item.sheet}!{item.qid}"
        if key in used:
            key = location if location not in used else f"{location}#{len(used)}"
        used.add(key)
        questions.append(
            ExtractedQuestion(
                key, item.text, item.qid, item.section, location, item.answer, item.notes
            )
        )
    return questions


def extract_xlsx(
    path: Path, options: ExtractOptions = ExtractOptions(), limits: PackageLimits = DEFAULT_LIMITS
) -> Extraction:
    """Read the questions of a workbook, with their sections, ids and answer places.

    Sheets that only copy the questionnaire with formulas (an analyst report, a summary)
    are skipped, as are hidden sheets unless named (see ``sheets``)."""
    check_package(path, "XLSX", limits)
    workbook = _open_workbook(path)
    try:
        skipped: dict[str, str] = {}
        sheets = _choose_sheets(workbook, options, skipped)
        xml = _read_sheet_xml(path, [s.title for s in sheets])
        lists = _ListResolver(workbook)
        read = {s.title: _read_one(s, xml.get(s.title, _SheetXml()), options, lists)
                for s in sheets}
        order = [s.title for s in workbook.worksheets] if options.sheet is None else list(read)
        charts = [n for n in workbook.sheetnames if n not in order and options.sheet is None]
    finally:
        workbook.close()
    chosen = choose_sheets(order, read, skipped, charts, named=options.sheet is not None)
    if not chosen.questions:
        if chosen.reports:
            raise DDQError(ErrorCode.NO_QUESTIONS, unanswerable_error(str(path),
                                                                      chosen.summaries))
        why = "; ".join(chosen.notes) or "the workbook has no visible sheets"
        if ErrorCode.INVALID_INPUT in chosen.codes:
            raise DDQError(ErrorCode.INVALID_INPUT, f"{path}: {why}")
        raise DDQError(
            ErrorCode.NO_QUESTIONS,
            f"{path}: no questions found ({why}); name the sheet and columns with --sheet, "
            "--header-row, --question-column and --answer-column",
        )
    if sum(1 for s in chosen.summaries if s.questions) > 1:
        for found in chosen.questions:  # several question tabs: each tab is a section
            found.section = (found.sheet, *found.section)
    return Extraction(
        str(path),
        FileFormat.XLSX,
        _assign_keys(chosen.questions),
        {"sheets": chosen.layout, "skipped": chosen.skipped},
        chosen.notes,
        chosen.summaries,
    )


def _read_one(sheet: Worksheet, xml: _SheetXml, options: ExtractOptions,
              lists: _ListResolver) -> SheetRead[_Found]:
    notes: list[str] = []
    empty = SheetEvidence(sheet.title, [], [])
    try:
        questions, layout = _SheetReader(sheet, xml, options, lists, notes).read()
    except _SkipSheet as exc:
        text = str(exc)
        reason = text.removeprefix(f"sheet {sheet.title!r}: ").removesuffix("; skipped")
        return SheetRead([], {}, [*notes, text], empty, text, reason, exc.code)
    if not questions:
        notes.append(f"sheet {sheet.title!r}: no questions under the header; skipped")
        return SheetRead([], layout, notes, empty, "no questions", "no questions under the header")
    return SheetRead(questions, layout, notes, _evidence(sheet.title, questions, layout, xml))


def _evidence(name: str, questions: list[_Found], layout: dict[str, Any], xml: _SheetXml
              ) -> SheetEvidence:
    """The question cells and, in their rows, the cells of the answer column (or choice
    columns; the notes column when the sheet has neither): its answer places."""
    columns = [layout.get("answer"), *(layout.get("choices") or {})]
    if not any(columns):
        columns = [layout.get("notes")]
    rows = [_parse_cell(q.cell, q.cell)[0] for q in questions]
    answer_cells = [f"{letter}{row}" for letter in columns if letter for row in rows]
    return SheetEvidence(name, [q.cell for q in questions], answer_cells, xml.formulas)


# --- write-back --------------------------------------------------------------------------------

_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})")
_MAX_CHOICES = 12  # columns one range of choices may span
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_DECLARATION = re.compile(rb"\s*<\?xml[^>]*\?>\s*")


@dataclass(frozen=True, slots=True)
class _Write:
    ref: str  # as the caller gave it, for messages
    row: int
    column: int
    text: str  # already cleaned and neutralised; "" clears the cell


@dataclass(frozen=True, slots=True)
class _Mark:
    """A choice to mark: an X under the header that names ``value``, the row's other choice
    cells cleared ("Sheet!C5:E5" → "No")."""

    ref: str
    row: int
    first: int
    last: int
    value: str


def _parse_cell(ref: str, cell: str) -> tuple[int, int]:
    match = _CELL_REF.fullmatch(cell.strip())
    if match:
        column = column_index_from_string(match.group(1).upper())
        row = int(match.group(2))
        if column <= _MAX_COLUMN and row <= _MAX_ROW:
            return row, column
    raise DDQError(
        ErrorCode.INVALID_INPUT,
        f"{ref!r} does not name a cell (expected '<sheet>!<cell>', e.g. 'Questionnaire!D5')",
    )


def _prepare_text(ref: str, text: str) -> str:
    if not isinstance(text, str):
        raise DDQError(ErrorCode.INVALID_INPUT, f"{ref}: the value must be text")
    cleaned = _XML_INVALID.sub("", text)
    if not cleaned:
        return ""
    cleaned = neutralise(cleaned)
    if len(cleaned) > _MAX_CELL_TEXT:
        raise DDQError(
            ErrorCode.INVALID_INPUT,
            f"{ref}: {len(cleaned)} characters is more than an Excel cell holds ({_MAX_CELL_TEXT})",
        )
    return cleaned


def _plan(values: Mapping[str, str], sheets: list[_SheetPart]
          ) -> dict[str, list[_Write | _Mark]]:
    """Group the writes by worksheet part, refusing unknown sheets, bad refs and repeats."""
    by_name = {s.name: s for s in sheets}
    folded = {s.name.casefold(): s for s in sheets}
    plan: dict[str, list[_Write | _Mark]] = {}
    seen: set[tuple[str, int, int]] = set()
    for ref, text in values.items():
        name, bang, cell = str(ref).rpartition("!")
        if not bang:
            raise DDQError(
                ErrorCode.INVALID_INPUT, f"{ref!r} does not name a cell (expected '<sheet>!<cell>')"
            )
        if len(name) > 1 and name.startswith("'") and name.endswith("'"):
            name = name[1:-1].replace("''", "'")
        sheet = by_name.get(name) or folded.get(name.casefold())
        if sheet is None:
            listed = ", ".join(repr(s.name) for s in sheets)
            raise DDQError(
                ErrorCode.INVALID_INPUT,
                f"{ref!r}: no sheet named {name!r}; the sheets are {listed}",
            )
        if not sheet.worksheet:
            raise DDQError(ErrorCode.INVALID_INPUT, f"{ref!r}: {sheet.name!r} is not a worksheet")
        first_cell, colon, last_cell = cell.partition(":")
        row, column = _parse_cell(ref, first_cell)
        last = column
        if colon:
            last_row, last = _parse_cell(ref, last_cell)
            if last_row != row or not column < last <= column + _MAX_CHOICES:
                raise DDQError(ErrorCode.INVALID_INPUT,
                               f"{ref!r}: a range of choices is part of one row, e.g. 'S!C5:E5'")
        for place in range(column, last + 1):
            if (sheet.part, row, place) in seen:
                raise DDQError(ErrorCode.INVALID_INPUT,
                               f"{ref!r}: the same cell is written twice")
            seen.add((sheet.part, row, place))
        item: _Write | _Mark = (
            _Mark(ref, row, column, last, _prepare_text(ref, text).strip()) if colon
            else _Write(ref, row, column, _prepare_text(ref, text)))
        plan.setdefault(sheet.part, []).append(item)
    return plan


def _bounds(ref: str) -> Bounds | None:
    try:
        min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    except (ValueError, TypeError):
        return None
    if None in (min_col, min_row, max_col, max_row):
        return None
    return int(min_row), int(min_col), int(max_row), int(max_col)


def _inside(bounds: Bounds, row: int, column: int) -> bool:
    return bounds[0] <= row <= bounds[2] and bounds[1] <= column <= bounds[3]


class _SheetEditor:
    """Sets cell values in one worksheet's XML, leaving every other byte's meaning alone."""

    def __init__(self, data: bytes, sheet: str,
                 shared_strings: Callable[[], list[str]] = list) -> None:
        self.data = data
        self.sheet = sheet
        self.shared_strings = shared_strings
        self._choice_headers: dict[tuple[int, int], tuple[int, list[str], tuple[str, str]]] = {}
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_blank_text=False,
        )
        self.root = etree.fromstring(data, parser)
        if self.root.getroottree().docinfo.doctype:
            raise DDQError(
                ErrorCode.UNSAFE_FILE,
                f"sheet {sheet!r}: the worksheet XML has a DOCTYPE; refusing it",
            )
        self.ns = etree.QName(self.root).namespace or ""
        sheet_data = self.root.find(self._tag("sheetData"))
        if sheet_data is None:
            raise DDQError(ErrorCode.UNREADABLE_FILE, f"sheet {sheet!r} has no cell data")
        self.sheet_data = sheet_data
        self.rows = self._index_rows()
        self.row_numbers = sorted(self.rows)
        self.merges = [
            b
            for m in self.root.iter(self._tag("mergeCell"))
            if (b := _bounds(m.get("ref", ""))) is not None
        ]
        self.formula_ranges = [
            b
            for f in self.root.iter(self._tag("f"))
            if f.get("t") in ("array", "dataTable") and (b := _bounds(f.get("ref", ""))) is not None
        ]
        self.grown: list[tuple[int, int]] = []

    def _tag(self, local: str) -> str:
        return f"{{{self.ns}}}{local}" if self.ns else local

    def _index_rows(self) -> dict[int, Any]:
        """Rows by number; a row without ``r`` gets its implied number written out."""
        rows: dict[int, Any] = {}
        previous = 0
        for row in self.sheet_data.iterchildren(self._tag("row")):
            number = int(row.get("r") or previous + 1)
            if row.get("r") is None:
                row.set("r", str(number))
            rows[number] = row
            previous = number
        return rows

    def _cells(self, row: Any, number: int) -> list[tuple[int, Any]]:
        cells = []
        previous = 0
        for cell in row.iterchildren(self._tag("c")):
            ref = cell.get("r")
            if ref:
                column = _parse_cell(f"{self.sheet}!{ref}", ref)[1]
            else:
                column = previous + 1
                cell.set("r", _cell_name(number, column))
            cells.append((column, cell))
            previous = column
        return cells

    def write(self, item: _Write) -> None:
        self._check_place(item)
        row = self.rows.get(item.row)
        if row is None:
            if not item.text:
                return  # clearing a cell that does not exist: nothing to do
            row = self._new_row(item.row)
        cell = self._find_cell(row, item)
        if cell is None:
            return
        if cell.find(self._tag("f")) is not None:
            raise DDQError(
                ErrorCode.INVALID_INPUT,
                f"{item.ref} holds a formula; an export does not overwrite formulas",
            )
        for child in list(cell):
            if _local(child.tag) in ("f", "v", "is"):
                cell.remove(child)
        for attribute in ("t", "cm", "vm"):
            cell.attrib.pop(attribute, None)
        if item.text:
            cell.set("t", "inlineStr")
            inline = etree.Element(self._tag("is"))
            text = etree.SubElement(inline, self._tag("t"))
            text.set(_XML_SPACE, "preserve")
            text.text = item.text
            cell.insert(0, inline)
            self.grown.append((item.row, item.column))

    def mark(self, item: _Mark) -> None:
        """Put the mark under the header that names ``item.value`` and clear the others; ""
        clears them all."""
        _, labels, marks = self._choices_above(item)
        texts = marked_row(item.ref, labels, item.value, marks)
        for offset, text in enumerate(texts):
            self.write(_Write(item.ref, item.row, item.first + offset, text))

    def _choices_above(self, item: _Mark) -> tuple[int, list[str], tuple[str, str]]:
        """The nearest row above ``item`` whose cells over its columns name choices, those
        names, and the mark and blank the form uses under them (see ``choice_marks``)."""
        key = (item.first, item.last)
        known = self._choice_headers.get(key)
        if known is not None and known[0] < item.row:
            return known
        for number in reversed(self.row_numbers[: bisect_left(self.row_numbers, item.row)]):
            texts = self._texts(number, item.first, item.last)
            if all(texts) and choice_columns(dict(enumerate(texts, start=1))):
                found = (number, texts, self._mark_in_use(number, item.first, item.last))
                self._choice_headers[key] = found
                return found
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{item.ref}: no header row above these cells names the choices "
                       "(e.g. Yes / No / N/A)")

    def _mark_in_use(self, header_row: int, first: int, last: int) -> tuple[str, str]:
        texts = [text for number in self.row_numbers if number > header_row
                 for text in self._texts(number, first, last)]
        if not any(texts):
            # A blank form whose choice cells offer one value in a dropdown ("✓") marks with it.
            texts = self._listed_marks(header_row + 1, first, last)
        return choice_marks(texts)

    def _listed_marks(self, row: int, first: int, last: int) -> list[str]:
        """The one value of a dropdown list ('"✓"') over the choice cells below the header."""
        marks: list[str] = []
        for rule in self.root.iter(self._tag("dataValidation")):
            formula = rule.find(self._tag("formula1"))
            listed = (formula.text or "").strip() if formula is not None else ""
            if rule.get("type") != "list" or not listed.startswith('"') or "," in listed:
                continue
            value = listed.strip('"')
            covered = [_bounds(part) for part in (rule.get("sqref") or "").split()]
            if value and any(b is not None and _inside(b, row, column) for b in covered
                             for column in range(first, last + 1)):
                marks.append(value)
        return marks

    def _texts(self, number: int, first: int, last: int) -> list[str]:
        texts = [""] * (last - first + 1)
        row = self.rows.get(number)
        if row is None:
            return texts
        for column, cell in self._cells(row, number):
            if first <= column <= last:
                texts[column - first] = " ".join(self._cell_text(cell).split())
        return texts

    def _cell_text(self, cell: Any) -> str:
        kind = cell.get("t")
        if kind == "inlineStr":
            inline = cell.find(self._tag("is"))
            if inline is None:
                return ""
            return "".join(t.text or "" for t in inline.iter(self._tag("t")))
        value = cell.find(self._tag("v"))
        text = value.text or "" if value is not None else ""
        if kind == "s":
            strings = self.shared_strings()
            index = int(text) if text.isdigit() else -1
            return strings[index] if 0 <= index < len(strings) else ""
        return text

    def _check_place(self, item: _Write) -> None:
        for bounds in self.merges:
            if _inside(bounds, item.row, item.column) and (item.row, item.column) != bounds[:2]:
                raise DDQError(
                    ErrorCode.INVALID_INPUT,
                    f"{item.ref} is inside the merged cells {_cell_name(*bounds[:2])}:"
                    f"{_cell_name(*bounds[2:])}; write to {_cell_name(*bounds[:2])}",
                )
        for bounds in self.formula_ranges:
            if _inside(bounds, item.row, item.column):
                raise DDQError(
                    ErrorCode.INVALID_INPUT,
                    f"{item.ref} is part of an array "
                    "formula; an export does not overwrite "
                    "formulas",
                )

    def _new_row(self, number: int) -> Any:
        row = etree.Element(self._tag("row"))
        row.set("r", str(number))
        at = bisect_left(self.row_numbers, number)
        if at < len(self.row_numbers):
            self.rows[self.row_numbers[at]].addprevious(row)
        else:
            self.sheet_data.append(row)
        self.row_numbers.insert(at, number)
        self.rows[number] = row
        return row

    def _find_cell(self, row: Any, item: _Write) -> Any:
        cells = self._cells(row, item.row)
        for column, cell in cells:
            if column == item.column:
                return cell
        if not item.text:
            return None
        cell = etree.Element(self._tag("c"))
        cell.set("r", _cell_name(item.row, item.column))
        style = self._new_cell_style(row, item.column)
        if style is not None:
            cell.set("s", style)
        later = [c for column, c in cells if column > item.column]
        if later:
            later[0].addprevious(cell)
        else:
            row.append(cell)
        return cell

    def _new_cell_style(self, row: Any, column: int) -> str | None:
        """What Excel gives a cell typed into: the row's format if set, else the column's."""
        if row.get("customFormat") in ("1", "true") and row.get("s"):
            return str(row.get("s"))
        for col in self.root.iter(self._tag("col")):
            if int(col.get("min", 0)) <= column <= int(col.get("max", 0)) and col.get("style"):
                return str(col.get("style"))
        return None

    def _grow_dimension(self) -> None:
        dimension = self.root.find(self._tag("dimension"))
        if dimension is None or not self.grown:
            return
        bounds = _bounds(dimension.get("ref", ""))
        if bounds is None:
            return
        rows = [bounds[0], bounds[2], *(r for r, _ in self.grown)]
        columns = [bounds[1], bounds[3], *(c for _, c in self.grown)]
        grown = (min(rows), min(columns), max(rows), max(columns))
        if grown != bounds:
            dimension.set(
                "ref", f"{_cell_name(grown[0], grown[1])}:{_cell_name(grown[2], grown[3])}"
            )

    def to_bytes(self) -> bytes:
        self._grow_dimension()
        body = etree.tostring(self.root, encoding="UTF-8", xml_declaration=False)
        declaration = _XML_DECLARATION.match(self.data)
        if declaration is None:
            return bytes(body)
        original = declaration.group(0)
        encoding = re.search(rb"encoding\s*=\s*[\"']([^\"']+)", original)
        if encoding is None or encoding.group(1).lower() in (b"utf-8", b"utf8"):
            return original + bytes(body)
        standalone = self.root.getroottree().docinfo.standalone
        return bytes(
            etree.tostring(
                self.root.getroottree(),
                encoding="UTF-8",
                xml_declaration=True,
                standalone=standalone,
            )
        )


def _refuse_same_file(src: Path, dst: Path) -> None:
    refuse_overwrite(src, dst)
    if dst.is_dir():
        raise DDQError(ErrorCode.INVALID_INPUT, f"{dst}: is a folder; give a file name")
    if not dst.parent.is_dir():
        raise DDQError(ErrorCode.NOT_FOUND, f"{dst.parent}: no such folder")


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy


def _write_package(package: zipfile.ZipFile, dst: Path, parts: dict[str, bytes]) -> None:
    """Every entry in its order, name, date and compression; edited parts replaced. The
    package goes to a temporary file first, so a failure leaves no half-written export."""
    mode = output_mode(dst)
    handle, temporary = temporary_beside(dst, ".part")
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w") as out:
            out.comment = package.comment
            for info in package.infolist():
                data = parts.get(info.filename)
                out.writestr(_copy_info(info), package.read(info) if data is None else data)
        os.chmod(temporary, mode)
        os.replace(temporary, dst)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _place(item: _Write | _Mark) -> tuple[int, int]:
    return (item.row, item.column if isinstance(item, _Write) else item.first)


def _shared_strings(package: zipfile.ZipFile) -> list[str]:
    """The workbook's shared strings, in order (what a cell of type "s" indexes)."""
    workbook_part, targets = _workbook_rels(package)
    part = next((target for kind, target in targets.values() if kind.endswith("/sharedStrings")),
                posixpath.join(posixpath.dirname(workbook_part), "sharedStrings.xml"))
    if part not in package.namelist():
        return []
    strings = []
    for item in SafeET.fromstring(package.read(part)):
        # The text runs of the item; a phonetic reading (rPh) is not part of the value.
        runs = [r for r in item if _local(r.tag) in ("t", "r")]
        strings.append("".join(t.text or "" for r in runs for t in r.iter()
                               if _local(t.tag) == "t"))
    return strings


def write_xlsx(src: Path, dst: Path, values: Mapping[str, str]) -> int:
    """Write a copy of ``src`` to ``dst`` with the given cells ("Sheet!D5" → text) set.

    Text goes in as an inline string with the cell's style kept; formula-like text gets a
    leading apostrophe; "" clears a cell but keeps it and its style. Every other zip entry is
    copied with identical content. Returns the number of cells written.
    """
    check_package(src, "XLSX")
    _refuse_same_file(src, dst)
    try:
        with zipfile.ZipFile(src) as package:
            sheets = _sheet_parts(package)
            plan = _plan(values, sheets)
            names = {s.part: s.name for s in sheets}
            parts: dict[str, bytes] = {}
            strings: list[list[str]] = []

            def shared() -> list[str]:
                if not strings:
                    strings.append(_shared_strings(package))
                return strings[0]

            for part, writes in plan.items():
                editor = _SheetEditor(package.read(part), names[part], shared)
                for item in sorted(writes, key=_place):
                    if isinstance(item, _Mark):
                        editor.mark(item)
                    else:
                        editor.write(item)
                parts[part] = editor.to_bytes()
            try:
                _write_package(package, dst, parts)
            except OSError as exc:
                raise DDQError(
                    ErrorCode.INVALID_INPUT,
                    f"{dst}: cannot write the export ({exc.strerror or exc})",
                ) from exc
    except DDQError:
        raise
    except DefusedXmlException as exc:
        raise DDQError(
            ErrorCode.UNSAFE_FILE, f"{src}: unsafe XML in the workbook ({_why(exc)})"
        ) from exc
    except (
        KeyError,
        ValueError,
        SyntaxError,
        OSError,
        zipfile.BadZipFile,
        etree.XMLSyntaxError,
        NotImplementedError,
    ) as exc:
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"{src}: corrupt XLSX package ({_why(exc)})"
        ) from exc
    return len(values)
