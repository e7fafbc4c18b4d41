"""CSV questionnaires: one question per row, the answer in a column (added when missing).

Reading finds the encoding (UTF-8, with or without a BOM, else Windows-1252), the delimiter
(comma, semicolon or tab) and the header row, whose names say which column holds the
question, its id, its section, the answer and the notes; the options override any of them.

Writing keeps every record that gets no value exactly as it was in the file, character for
character, and only re-quotes the records that get one, so an answered copy differs from the
original only where answers went. A missing answer column is appended at the right end.

The header rules (:func:`classify_headers`) are shared with DOCX question tables.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import (
    DEFAULT_LIMITS,
    YES_NO_VALUES,
    ExtractedQuestion,
    Extraction,
    ExtractOptions,
    FileFormat,
    PackageLimits,
    Target,
    TargetKind,
    TargetRole,
    neutralise,
    value_kind,
)
from ddq.questionnaire.detect.choices import choice_marks, is_marked, marked_row
from ddq.questionnaire.detect.headers import (
    HeaderColumns,
    classify_headers,
    find_column,
    normalise_header,
)
from ddq.questionnaire.detect.keys import Placed, assign_keys
from ddq.questionnaire.detect.questions import (
    is_placeholder,
    looks_like_question,
    numbered_inside,
    section_numbers,
    stated_limit,
)
from ddq.questionnaire.ooxml import check_file_size, refuse_overwrite, replace_atomically

# --- reading ------------------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";", "\t")
_SNIFF_LINES = 50
_HEADER_SCAN = 15
_SECTION_ROW_MAX = 120
_LOOKS_LIKE_ID = re.compile(r"^[A-Za-z]{0,6}[-_.]?\d[\w.\-]*$")
# Characters outside Windows-1252 that answers commonly hold, for a cp1252 file.
_CP1252_SUBSTITUTES = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "←": "<-",
                                     "✓": "v", "✔": "v", "✗": "x", "\u2011": "-",
                                     "\u2212": "-", "\u2009": " ", "\u202f": " "})


@dataclass(frozen=True, slots=True)
class _Record:
    fields: list[str]
    #: The record as it is in the file, its line terminator included.
    raw: str
    line: int  # 1-based line it starts on

    @property
    def blank(self) -> bool:
        return not any(f.strip() for f in self.fields)

    @property
    def body_and_end(self) -> tuple[str, str]:
        body = self.raw.rstrip("\r\n")
        return body, self.raw[len(body):]


@dataclass(slots=True)
class _CsvFile:
    encoding: str  # "utf-8" or "cp1252"
    bom: bool
    delimiter: str
    records: list[_Record] = field(default_factory=list)

    @property
    def line_terminator(self) -> str:
        for record in self.records:
            end = record.body_and_end[1]
            if end:
                return end
        return "\r\n"


def _decode(path: Path, data: bytes) -> tuple[str, str, bool]:
    if b"\x00" in data[:8192]:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: binary content, not CSV text")
    bom = data.startswith(_BOM)
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data[len(_BOM) if bom else 0:].decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:8192]
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f")
        if controls > max(2, len(sample) // 100):
            raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: binary content, not CSV text")
        return text, encoding, bom
    raise DDQError(ErrorCode.UNREADABLE_FILE,
                   f"{path}: not valid UTF-8 or Windows-1252 text")


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits most records into the same number (2+) of columns."""
    sample = "".join(io.StringIO(text, newline="").readlines()[:_SNIFF_LINES])
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                    if any(c.strip() for c in r)]
        except csv.Error:
            continue
        widths = Counter(len(r) for r in rows if len(r) >= 2)
        if not widths:
            continue
        width, count = widths.most_common(1)[0]
        score = (count, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(text: str, delimiter: str) -> Iterator[_Record]:
    """Parse, keeping each record's own text so it can be written back untouched."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    line_no = 1
    for fields in csv.reader(lines(), delimiter=delimiter, quotechar='"', doublequote=True):
        raw = "".join(consumed)
        count = len(consumed)
        consumed.clear()
        yield _Record(fields, raw, line_no)
        line_no += count


def _read(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> _CsvFile:
    check_file_size(path, limits)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc
    text, encoding, bom = _decode(path, data)
    if not text.strip():
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: the file has no rows")
    delimiter = _sniff_delimiter(text)
    parsed = _CsvFile(encoding, bom, delimiter)
    try:
        parsed.records = list(_records(text, delimiter))
    except csv.Error as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: not a readable CSV file ({exc})") \
            from exc
    return parsed


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


def extract_csv(path: Path, options: ExtractOptions = ExtractOptions(),
                limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
    """Questions from a CSV file, one per row with a question; see the module docstring."""
    parsed = _read(path, limits)
    header_at = _header_index(parsed, options)
    if header_at is None:
        raise _no_question_column(path, parsed, options)
    headers = parsed.records[header_at].fields
    columns = classify_headers(headers, options)
    if columns.question is None:
        raise _no_question_column(path, parsed, options)
    _check_option_columns(path, headers, options)
    plan = _plan(headers, columns, options)
    found = _questions(parsed.records[header_at + 1:], columns, plan)
    if not found:
        raise DDQError(ErrorCode.NO_QUESTIONS,
                       f"{path}: no questions found (the question column "
                       f"{_column_name(headers, columns.question)!r} is empty)")
    questions, warnings = _keyed(found)
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


@dataclass(frozen=True, slots=True)
class _Found:
    text: str
    qid: str | None
    section: tuple[str, ...]
    line: int
    answer: Target
    notes: Target | None


def _section_row(record: _Record, columns: HeaderColumns) -> str | None:
    """A row with one short value and no question: a section heading (no section column)."""
    filled = [(i, v.strip()) for i, v in enumerate(record.fields) if v.strip()]
    if columns.section is not None or len(filled) != 1:
        return None
    index, value = filled[0]
    if len(value) > _SECTION_ROW_MAX or (index == columns.id and _LOOKS_LIKE_ID.match(value)):
        return None  # an id without its question is not a heading
    return value


def _questions(records: Sequence[_Record], columns: HeaderColumns, plan: _Plan) -> list[_Found]:
    found: list[_Found] = []
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
        found.append(_Found(question, _cell(record.fields, columns.id) or None, section,
                            record.line, answer, notes))
    return found


def _keyed(found: Sequence[_Found]) -> tuple[list[ExtractedQuestion], list[str]]:
    keys, warnings = assign_keys([Placed(f.qid, f"row {f.line}") for f in found],
                                 keyed_by="row")
    questions = [
        ExtractedQuestion(key=key, text=f.text, qid=f.qid, section=f.section,
                          location=f"row {f.line}", answer=f.answer, notes=f.notes)
        for key, f in zip(keys, found, strict=True)
    ]
    return questions, warnings


# --- writing ------------------------------------------------------------------------------------

_REF = re.compile(r"^row:(\d+):(.*)$", re.DOTALL)


def _parse_refs(values: Mapping[str, str]) -> list[tuple[int, str, str]]:
    parsed = []
    for ref, value in values.items():
        match = _REF.match(ref)
        if match is None:
            raise DDQError(ErrorCode.INVALID_INPUT,
                           f"{ref!r} is not a CSV answer place (expected row:<n>:<column>)")
        parsed.append((int(match.group(1)), match.group(2), neutralise(str(value))))
    return parsed


def _writer_header(parsed: _CsvFile, names: set[str]) -> int:
    """The header the refs were made against: the detected one, else the first naming them."""
    detected = _header_index(parsed, ExtractOptions())
    if detected is not None:
        return detected
    wanted = {normalise_header(n) for n in names}
    candidates = [i for i, r in enumerate(parsed.records[:_HEADER_SCAN]) if not r.blank]
    for index in candidates:
        if wanted & {normalise_header(f) for f in parsed.records[index].fields}:
            return index
    if not candidates:
        raise DDQError(ErrorCode.INVALID_INPUT, "the CSV file has no header row")
    return candidates[0]


def _column_index(headers: Sequence[str], name: str) -> int | None:
    stripped = [h.strip() for h in headers]
    if name in stripped:
        return stripped.index(name)
    lowered = [h.lower() for h in stripped]
    return lowered.index(name.lower()) if name.lower() in lowered else None


def _serialise(fields: Sequence[str], delimiter: str) -> str:
    out = io.StringIO()
    # The terminator is cut off again; it must hold \r\n so that cells with line breaks
    # are quoted.
    csv.writer(out, delimiter=delimiter, quotechar='"', lineterminator="\r\n",
               quoting=csv.QUOTE_MINIMAL).writerow(fields)
    text = out.getvalue()[:-2]
    return "" if list(fields) == [""] else text


def _rewrite(record: _Record, edits: Mapping[int, str], new_values: Sequence[str], base: int,
             delimiter: str) -> str:
    """The record with ``edits`` in existing columns and ``new_values`` from column ``base``."""
    body, end = record.body_and_end
    width = len(record.fields)
    if edits:
        fields = list(record.fields) + [""] * (max(edits) + 1 - width)
        for index, value in edits.items():
            fields[index] = value
        body, width = _serialise(fields, delimiter), len(fields)
    if new_values:
        body += delimiter * max(0, base - width)
        body += "".join(delimiter + _serialise([v], delimiter) for v in new_values)
    return body + end


def _encode(parsed: _CsvFile, text: str) -> bytes:
    if parsed.encoding == "utf-8":
        return (_BOM if parsed.bom else b"") + text.encode("utf-8")
    return text.translate(_CP1252_SUBSTITUTES).encode("cp1252", errors="replace")


_CHOICE_SEPARATOR = "|"


def _choice_places(headers: Sequence[str], name: str) -> list[tuple[int, str]] | None:
    """The columns of a choice place ("Yes|No|N/A"), when every part names a column."""
    if _CHOICE_SEPARATOR not in name:
        return None
    places = [(_column_index(headers, part), part) for part in name.split(_CHOICE_SEPARATOR)]
    if any(index is None for index, _ in places):
        return None
    return [(index, part) for index, part in places if index is not None]


def _mark(ref: str, choices: Sequence[tuple[int, str]], value: str,
          marks: tuple[str, str]) -> dict[int, str]:
    """The edits that mark ``value``'s column and clear the row's other choices, with the mark
    the file already uses in those columns (``marks``, see ``choice_marks``); "" clears them
    all."""
    texts = marked_row(ref, [name for _, name in choices], value, marks)
    return {index: text for (index, _), text in zip(choices, texts, strict=True)}


def write_csv(src: Path, dst: Path, values: Mapping[str, str]) -> int:
    """Write ``values`` (by ``row:<r>:<column>`` ref) into a copy of ``src`` at ``dst``.

    Same encoding, BOM, delimiter and line ends as the source; records without a value are
    copied as they were; a column the header lacks is appended at the right end. Returns the
    number of values written.
    """
    refuse_overwrite(src, dst)
    parsed = _read(src)
    refs = _parse_refs(values)
    header_at = _writer_header(parsed, {name for _, name, _ in refs})
    header = parsed.records[header_at]
    data = parsed.records[header_at + 1:]
    new_columns: list[str] = []
    edits: dict[int, dict[int, str]] = {}
    appended: dict[int, dict[str, str]] = {}
    marks_in_use: dict[str, tuple[str, str]] = {}
    for row, name, value in refs:
        if row >= len(data) or data[row].blank:
            raise DDQError(ErrorCode.INVALID_INPUT, f"row:{row}:{name}: no such data row")
        index = _column_index(header.fields, name)
        choices = _choice_places(header.fields, name) if index is None else None
        if choices is not None:
            if name not in marks_in_use:  # once per set of choice columns, not per row
                marks_in_use[name] = choice_marks(_cell(record.fields, column)
                                                  for record in data for column, _ in choices)
            edits.setdefault(row, {}).update(
                _mark(f"row:{row}:{name}", choices, value, marks_in_use[name]))
            continue
        if index is None:
            if not name.strip():
                raise DDQError(ErrorCode.INVALID_INPUT, f"row:{row}:{name}: no column named")
            if name not in new_columns:
                new_columns.append(name)
            appended.setdefault(row, {})[name] = value
        else:
            edits.setdefault(row, {})[index] = value
    base = max(len(r.fields) for r in parsed.records[header_at:])
    out: list[str] = [r.raw for r in parsed.records[:header_at]]
    out.append(_rewrite(header, {}, new_columns, base, parsed.delimiter))
    for row, record in enumerate(data):
        if row not in edits and row not in appended:
            out.append(record.raw)
            continue
        extra = appended.get(row, {})
        new_values = [extra.get(name, "") for name in new_columns] if extra else []
        out.append(_rewrite(record, edits.get(row, {}), new_values, base, parsed.delimiter))
    replace_atomically(dst, _encode(parsed, "".join(out)))
    return len(refs)
