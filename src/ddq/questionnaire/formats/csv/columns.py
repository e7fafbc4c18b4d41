"""Which record is the header and which column takes what: the header found by the shared
header vocabulary (or the options), and where answers go (an existing column, the choice
columns as one place, or a new Answer column)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractOptions
from ddq.questionnaire.detect.headers import HeaderColumns, classify_headers, find_column
from ddq.questionnaire.formats.csv.text import _CsvFile

_HEADER_SCAN = 15


def _header_index(parsed: _CsvFile, options: ExtractOptions) -> int | None:
    """The header record: by option (1-based line), else the first one naming a question."""
    if options.header_row is not None:
        for index, record in enumerate(parsed.records):
            if record.line == options.header_row and not record.blank:
                return index
        return None
    for index, record in enumerate(parsed.records[:_HEADER_SCAN]):
        if not record.blank and classify_headers(record.fields, options).question is not None:
            return index
    return None


def _describe_columns(headers: Sequence[str]) -> str:
    return ", ".join(repr(h.strip()) for h in headers if h.strip()) or "none"


def _no_question_column(path: Path, parsed: _CsvFile, options: ExtractOptions) -> DDQError:
    first = next((r for r in parsed.records if not r.blank), None)
    seen = _describe_columns(first.fields if first else [])
    wanted = (f"no column {options.question_column!r}; " if options.question_column else "")
    return DDQError(ErrorCode.NO_QUESTION_COLUMN,
                    f"{path}: {wanted}no question column found (columns: {seen}); name it with "
                    "--question-column (a header name or a 1-based column number)")


def _check_option_columns(path: Path, headers: Sequence[str], options: ExtractOptions) -> None:
    for label, wanted in (("id", options.id_column), ("notes", options.notes_column)):
        if wanted and find_column(headers, wanted) is None:
            raise DDQError(ErrorCode.INVALID_INPUT,
                           f"{path}: no {label} column {wanted!r} (columns: "
                           f"{_describe_columns(headers)})")


def _column_name(headers: Sequence[str], index: int) -> str:
    return headers[index].strip() if index < len(headers) else ""


def _cell(fields: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(fields):
        return ""
    return fields[index].strip()


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where answers go: existing column names, or a new column's name."""

    answer: str
    notes: str | None
    new_columns: tuple[str, ...]


def _plan(headers: Sequence[str], columns: HeaderColumns, options: ExtractOptions) -> _Plan:
    if columns.choices:  # one place over the choice columns: "row:<r>:Yes|No|N/A"
        answer = _CHOICE_SEPARATOR.join(_column_name(headers, c) for c, _ in columns.choices)
        new: tuple[str, ...] = ()
    elif columns.answer is not None:
        answer = _column_name(headers, columns.answer)
        new = ()
    else:
        wanted = (options.answer_column or "").strip()
        answer = wanted if wanted and not wanted.isdigit() else "Answer"
        new = (answer,)
    notes = _column_name(headers, columns.notes) if columns.notes is not None else None
    return _Plan(answer, notes, new)


_CHOICE_SEPARATOR = "|"
