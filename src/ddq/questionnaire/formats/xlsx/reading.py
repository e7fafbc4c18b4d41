"""Extracting a workbook's questionnaire: the sheets to read, each read on its own, the
reports and question banks among them dropped (``sheets``), then keys and typed places."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ddq.errors import DDQError, ErrorCode
from ddq.forms import (
    DEFAULT_LIMITS,
    Extraction,
    ExtractOptions,
    FileFormat,
    PackageLimits,
)
from ddq.questionnaire.detect.keys import Found, assign_keys
from ddq.questionnaire.formats.xlsx.columns import _SkipSheet
from ddq.questionnaire.formats.xlsx.dropdowns import _ListResolver
from ddq.questionnaire.formats.xlsx.editing import _parse_cell
from ddq.questionnaire.formats.xlsx.package import _open_workbook, _read_sheet_xml, _SheetXml
from ddq.questionnaire.formats.xlsx.rows import _Found, _SheetReader
from ddq.questionnaire.formats.xlsx.sheets import (
    SheetEvidence,
    SheetRead,
    choose_sheets,
    unanswerable_error,
)
from ddq.questionnaire.ooxml import check_package


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
        assign_keys([Found(f.text, f.qid, f.section, f"{f.sheet}!{f.cell}", f.answer,
                           f.notes, f.sheet, f.cell, f.row) for f in chosen.questions])[0],
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

