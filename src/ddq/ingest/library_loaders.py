"""Answer libraries in XLSX or CSV: one approved question/answer pair per row.

Columns are detected from the header row (or named by option); a sheet without a
recognisable question column is an error that names the columns it saw.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ddq.domain import Block, LoadedDocument, Location
from ddq.errors import DDQError, ErrorCode
from ddq.questionnaire.detect.headers import HeaderRole, first_column, match_header

_HEADER_SCAN_ROWS = 15


@dataclass(frozen=True, slots=True)
class LibraryColumns:
    """Header names (case-insensitive) chosen by the user; ``None`` means detect."""

    question: str | None = None
    answer: str | None = None


def review_date(text: str) -> date | None:
    """A review-by cell's date: ISO ("2026-06-30", also as a workbook's datetime, which
    reads "2026-06-30 00:00:00"), or day/month/year ("30/06/2026"); None when empty or
    unreadable (the entry then has no review date, as before)."""
    text = text.strip()
    found = _ISO_DATE.match(text)
    try:
        if found:
            return date(int(found[1]), int(found[2]), int(found[3]))
        found = _DMY_DATE.match(text)
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        return None
    return None


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


def _norm(value: object) -> str:
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def _pick(headers: Sequence[str], wanted: str | None, role: HeaderRole,
          taken: Sequence[int | None] = ()) -> int | None:
    """The column named ``wanted`` (case-insensitive), else the first free one whose header
    names ``role`` in the questionnaires' header vocabulary (for the answer, a "Response" or
    "Answer" column before a "Yes/No" or "Status" one, whose text is only the verdict)."""
    lowered = [h.lower() for h in headers]
    if wanted is not None:
        return lowered.index(wanted.lower()) if wanted.lower() in lowered else None
    matches = [match_header(h) for h in headers]
    if role is HeaderRole.QUESTION:  # a "Control" column is a table of records' first column
        matches = [m if m is None or not m.weak else None for m in matches]
    return first_column(matches, role, {c for c in taken if c is not None})


def _rows_to_blocks(
    rows: Iterable[tuple[int, Sequence[object]]],
    *,
    source: str,
    sheet: str | None,
    columns: LibraryColumns,
) -> list[Block]:
    """Find the header row, then turn each data row into a library block."""
    buffered: list[tuple[int, list[str]]] = []
    header_at: int | None = None
    q_col = a_col = o_col = d_col = r_col = None
    seen_headers: list[str] = []
    iterator = iter(rows)
    for row_number, values in iterator:
        cells = [_norm(v) for v in values]
        buffered.append((row_number, cells))
        if not any(cells):
            continue
        q_col = _pick(cells, columns.question, HeaderRole.QUESTION)
        if q_col is not None:
            header_at = len(buffered) - 1
            a_col = _pick(cells, columns.answer, HeaderRole.ANSWER, (q_col,))
            o_col = _pick(cells, None, HeaderRole.OWNER, (q_col, a_col))
            d_col = _pick(cells, None, HeaderRole.NOTES, (q_col, a_col))
            r_col = _pick(cells, None, HeaderRole.REVIEW_BY, (q_col, a_col))
            break
        if not seen_headers:
            seen_headers = [c for c in cells if c]
        if len(buffered) >= _HEADER_SCAN_ROWS:
            break
    if header_at is None or q_col is None:
        seen = ", ".join(repr(c) for c in seen_headers) or "none"
        where = f"{source} sheet {sheet!r}" if sheet else source
        wanted = f"column named {columns.question!r}" if columns.question else (
            "question column (e.g. 'Question')"
        )
        raise DDQError(
            ErrorCode.NO_QUESTION_COLUMN, f"{where}: found no {wanted}; columns seen: {seen}"
        )
    header = buffered[header_at][1]
    if a_col is None:
        seen = ", ".join(repr(c) for c in header if c)
        where = f"{source} sheet {sheet!r}" if sheet else source
        raise DDQError(
            ErrorCode.NO_ANSWER_COLUMN,
            f"{where}: found a question column but no answer column (a questionnaire to "
            f"answer, not a library of answers?); columns seen: {seen}",
        )

    def rows_after_header() -> Iterable[tuple[int, list[str]]]:
        yield from buffered[header_at + 1 :]
        for row_number, values in iterator:
            yield row_number, [_norm(v) for v in values]

    blocks: list[Block] = []
    for row_number, cells in rows_after_header():
        question = cells[q_col] if q_col < len(cells) else ""
        answer = cells[a_col] if a_col < len(cells) else ""
        if not question or not answer:
            continue
        detail = cells[d_col] if d_col is not None and d_col < len(cells) else ""
        if detail and detail != answer:
            # "No" alone is not an answer to reuse; "No. Encryption uses ..." is.
            answer = f"{answer.rstrip('.')}. {detail}" if len(answer) <= 20 else (
                f"{answer}\n{detail}")
        owner = cells[o_col] if o_col is not None and o_col < len(cells) and cells[o_col] else None
        review = cells[r_col] if r_col is not None and r_col < len(cells) else ""
        blocks.append(
            Block(
                text=f"Q: {question}\nA: {answer}",
                location=Location(sheet=sheet, row=row_number),
                library_question=question,
                library_answer=answer,
                library_owner=owner,
                library_review_by=review_date(review),
            )
        )
    return blocks


def load_csv_library(path: Path, text: str, columns: LibraryColumns) -> LoadedDocument:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(enumerate(csv.reader(io.StringIO(text), dialect), start=1))
    except csv.Error as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: malformed CSV ({exc})") from exc
    try:
        blocks = _rows_to_blocks(rows, source=str(path), sheet=None, columns=columns)
    except DDQError as exc:
        if exc.code is not ErrorCode.NO_QUESTION_COLUMN or columns.question is not None:
            raise
        # Not a question/answer library: a table of records (a control catalog, a
        # subprocessor list) is evidence too; each row is a passage of "header: value" lines.
        blocks = _rows_as_records(rows)
        if not blocks:
            raise
    return LoadedDocument(title=path.stem, blocks=blocks, format="csv")


def _rows_as_records(rows: Sequence[tuple[int, Sequence[object]]]) -> list[Block]:
    filled = [(n, [_norm(v) for v in row]) for n, row in rows if any(_norm(v) for v in row)]
    if len(filled) < 2:
        return []
    _, headers = filled[0]
    blocks: list[Block] = []
    for number, values in filled[1:]:
        pairs = [f"{h or f'column {i + 1}'}: {v}" for i, (h, v) in
                 enumerate(zip(headers, values, strict=False)) if v]
        label = " ".join(values[:1] + values[2:3]).strip() if len(values) > 2 else values[0]
        blocks.append(Block(text="\n".join(pairs),
                            location=Location(row=number, heading_path=(label,) if label else ())))
    return blocks


def load_xlsx_library(path: Path, columns: LibraryColumns) -> LoadedDocument:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(str(path), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        with path.open("rb") as handle:
            if handle.read(8) == bytes.fromhex("D0CF11E0A1B11AE1"):
                raise DDQError(
                    ErrorCode.ENCRYPTED_FILE,
                    f"{path}: the workbook is password-protected or in the old .xls format",
                ) from exc
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: not a readable XLSX ({exc})") from exc
    blocks: list[Block] = []
    errors: list[DDQError] = []
    try:
        for sheet in workbook.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue
            rows = ((n, row) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1))
            try:
                blocks.extend(
                    _rows_to_blocks(rows, source=str(path), sheet=sheet.title, columns=columns)
                )
            except DDQError as exc:
                errors.append(exc)
    finally:
        workbook.close()
    if not blocks and errors:
        codes = {e.code for e in errors}
        code = codes.pop() if len(codes) == 1 else ErrorCode.NO_QUESTION_COLUMN
        raise DDQError(code, "; ".join(e.detail for e in errors))
    return LoadedDocument(title=path.stem, blocks=blocks, format="xlsx")
