"""Editing a worksheet's XML in place: the answer cells written as inline strings with
their style kept, choice cells marked with the form's own mark, nothing else changed
(but the sheet's dimension when a written cell lies outside it)."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from openpyxl.utils.cell import column_index_from_string, range_boundaries

from ddq.errors import DDQError, ErrorCode
from ddq.forms import (
    neutralise,
)
from ddq.questionnaire.detect.choices import (
    choice_columns,
    choice_marks,
    marked_row,
)
from ddq.questionnaire.formats.xlsx.package import _local, _SheetPart
from ddq.questionnaire.formats.xlsx.values import (
    _MAX_CELL_TEXT,
    _MAX_COLUMN,
    _MAX_ROW,
    _XML_SPACE,
    Bounds,
    _cell_name,
)

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
