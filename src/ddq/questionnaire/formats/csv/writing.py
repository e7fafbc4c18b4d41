"""Writing answers into a copy of a CSV file: only the records that get a value are
re-quoted, a missing answer column is appended at the right end, and choice columns are
marked with the mark the file already uses."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractOptions, neutralise
from ddq.questionnaire.detect.choices import choice_marks, marked_row
from ddq.questionnaire.detect.headers import normalise_header
from ddq.questionnaire.formats.csv.columns import (
    _CHOICE_SEPARATOR,
    _HEADER_SCAN,
    _cell,
    _header_index,
)
from ddq.questionnaire.formats.csv.text import _CsvFile, _encode, _read, _Record
from ddq.questionnaire.ooxml import refuse_overwrite, replace_atomically

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
