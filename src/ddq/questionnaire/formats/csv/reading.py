"""Extracting a CSV questionnaire: one question per row with a question, its section (a
section column, a heading row or a numbered section), its answer place and notes place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import (
    DEFAULT_LIMITS,
    YES_NO_VALUES,
    Extraction,
    ExtractOptions,
    FileFormat,
    PackageLimits,
    Target,
    TargetKind,
    TargetRole,
    value_kind,
)
from ddq.questionnaire.detect.choices import is_marked
from ddq.questionnaire.detect.headers import HeaderColumns, classify_headers, with_blank_header_id
from ddq.questionnaire.detect.keys import Found, assign_keys
from ddq.questionnaire.detect.questions import (
    is_placeholder,
    looks_like_question,
    numbered_inside,
    section_numbers,
    stated_limit,
)
from ddq.questionnaire.formats.csv.columns import (
    _cell,
    _check_option_columns,
    _column_name,
    _header_index,
    _no_question_column,
    _Plan,
    _plan,
)
from ddq.questionnaire.formats.csv.text import _read, _Record

_SECTION_ROW_MAX = 120
_LOOKS_LIKE_ID = re.compile(r"^[A-Za-z]{0,6}[-_.]?\d[\w.\-]*$")


def extract_csv(path: Path, options: ExtractOptions = ExtractOptions(),
                limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
    """Questions from a CSV file, one per row with a question; see the module docstring."""
    parsed = _read(path, limits)
    header_at = _header_index(parsed, options)
    if header_at is None:
        raise _no_question_column(path, parsed, options)
    headers = parsed.records[header_at].fields
    columns = with_blank_header_id(classify_headers(headers, options), headers,
                                   [r.fields for r in parsed.records[header_at + 1:]], options)
    if columns.question is None:
        raise _no_question_column(path, parsed, options)
    _check_option_columns(path, headers, options)
    plan = _plan(headers, columns, options)
    found = _questions(parsed.records[header_at + 1:], columns, plan)
    if not found:
        raise DDQError(ErrorCode.NO_QUESTIONS,
                       f"{path}: no questions found (the question column "
                       f"{_column_name(headers, columns.question)!r} is empty)")
    questions, warnings = assign_keys(found, keyed_by="row")
    layout = {
        "encoding": parsed.encoding, "bom": parsed.bom, "delimiter": parsed.delimiter,
        "line_terminator": parsed.line_terminator,
        "header_row": parsed.records[header_at].line,
        "columns": {role: (_column_name(headers, index) if index is not None else None)
                    for role, index in (("id", columns.id), ("question", columns.question),
                                        ("section", columns.section))}
        | {"answer": plan.answer, "notes": plan.notes},
        "answer_allowed": ([label for _, label in columns.choices] or
                           (list(YES_NO_VALUES) if columns.yes_no else [])),
        "choices": [label for _, label in columns.choices] or None,
        "new_columns": list(plan.new_columns),
    }
    return Extraction(str(path), FileFormat.CSV, questions, layout, warnings)


def _section_row(record: _Record, columns: HeaderColumns) -> str | None:
    """A row with one short value and no question: a section heading (no section column)."""
    filled = [(i, v.strip()) for i, v in enumerate(record.fields) if v.strip()]
    if columns.section is not None or len(filled) != 1:
        return None
    index, value = filled[0]
    if len(value) > _SECTION_ROW_MAX or (index == columns.id and _LOOKS_LIKE_ID.match(value)):
        return None  # an id without its question is not a heading
    return value


def _questions(records: Sequence[_Record], columns: HeaderColumns, plan: _Plan) -> list[Found]:
    found: list[Found] = []
    heading: str | None = None
    heading_id: str | None = None  # the id that numbers the heading's section, if one does
    last_section = ""
    allowed = (tuple(label for _, label in columns.choices) or
               (YES_NO_VALUES if columns.yes_no else ()))
    answer_col = columns.answer
    ids = [_cell(r.fields, columns.id) if not r.blank and _cell(r.fields, columns.question)
           else "" for r in records]
    sections = section_numbers(ids)
    for row, record in enumerate(records):
        if record.blank:
            continue
        question = _cell(record.fields, columns.question)
        if not question:
            found_heading = _section_row(record, columns)
            if found_heading:
                heading, heading_id = found_heading, None
            continue
        # "1,Access Control" above "1.1,Is MFA enforced?" names a section (no section column).
        if (row in sections and columns.section is None and not looks_like_question(question)
                and not (answer_col is not None and _cell(record.fields, answer_col))):
            heading, heading_id = question, ids[row]
            continue
        if heading_id and ids[row] and not numbered_inside(heading_id, ids[row]):
            heading = heading_id = None  # "2" after section "1" has left it
        # A blank section cell continues the group above ("Access Control" written once).
        section_value = _cell(record.fields, columns.section) or last_section
        last_section = section_value
        section = (section_value,) if section_value else ((heading,) if heading else ())
        if columns.choices:  # the choice marked already
            current = next((label for column, label in columns.choices
                            if is_marked(_cell(record.fields, column))), "")
        else:
            current = _cell(record.fields, answer_col) if answer_col is not None else ""
            current = "" if is_placeholder(current) else current
        answer = Target(TargetRole.ANSWER, f"row:{row}:{plan.answer}", allowed, current or None,
                        None if columns.choices else stated_limit(plan.answer),
                        TargetKind.CHOICE_CELLS if columns.choices else value_kind(allowed))
        notes = None
        if plan.notes is not None:
            note = _cell(record.fields, columns.notes)
            note = "" if is_placeholder(note) else note
            notes = Target(TargetRole.NOTES, f"row:{row}:{plan.notes}", (), note or None,
                           stated_limit(plan.notes))
        found.append(Found(question, _cell(record.fields, columns.id) or None, section,
                           f"row {record.line}", answer, notes, row=record.line))
    return found


